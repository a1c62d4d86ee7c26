"""The linter: a vault -> findings, by rules that each have a name, a family and a doc.

- :mod:`.rule`: what a rule is and how it registers; :mod:`.rules`: the rules, by family;
- :mod:`.engine`: selecting rules and running them, directives, findings stamped and sorted;
- :mod:`.incremental` and :mod:`.cache`: runs that read and check only what changed;
- :mod:`.parallel`: checking notes in worker processes that keep what they read;
- :mod:`.report`: findings -> text, JSON, SARIF, ... ; :mod:`.fix`: safe fixes applied;
- :mod:`.docs`: the rules' pages, made from their docstrings.
"""
