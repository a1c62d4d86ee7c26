"""The linter: a vault -> findings, by rules that each have a name, a family and a doc.

One run, from the command to the report, in one direction::

    cli.lint -> api.lint_paths            paths -> vaults, and the notes named in each
      '- lint.run.lint_vault              per vault: rules selected, vault discovered, once
          |- cache:    lint.incremental.lint_cached    reads and checks what changed
          |              '- first run: parallel.lint_in_workers --+
          |- no cache: parallel.lint_in_workers ------------------+  (None: too small,
          '- else:     vault.load_vault -> lint.engine.lint       |   or cannot share)
                         '- engine.run_rules                      |
                                       engine.finish <------------+  silenced, sorted
    cli -> lint.report (text, json, sarif, github, ...) -> stdout or --output; exit code

- :mod:`.run`: the one place a run's way is chosen;
- :mod:`.rule`: what a rule is and how it registers; :mod:`.rules`: the rules, by family;
- :mod:`.engine`: selecting rules and running them, directives, findings stamped and sorted;
- :mod:`.incremental` and :mod:`.cache`: runs that read and check only what changed;
- :mod:`.parallel`: reading and checking notes in worker processes that keep what they read;
- :mod:`.report`: findings -> text, JSON, SARIF, ...; :mod:`.fix`: safe fixes applied;
- :mod:`.docs`: the rules' pages, made from their docstrings.
"""
