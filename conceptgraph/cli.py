"""The ``conceptgraph`` command: thin click wiring over ``conceptgraph.api``.

Imports stay light here: ``lint`` must start fast and never pull in rdflib or an HTTP stack.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import click

from conceptgraph import __version__


class ExitCode(enum.IntEnum):
    """What the process exit status means."""

    CLEAN = 0
    FINDINGS = 1
    ERROR = 2
    INTERRUPTED = 130


# Kept in step with conceptgraph.lint.report.REPORTERS by a test; listed here so that --help
# does not have to import the reporters.
FORMATS = ("text", "json", "sarif", "github")
COLORS = ("auto", "always", "never")
LEVELS = ("error", "warning", "info", "never")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="conceptgraph")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Lint, graph and query a vault of Markdown concept notes."""
    ctx.obj = {"traceback": traceback}


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--fail-on",
    type=click.Choice(LEVELS),
    default=None,
    help="Exit 1 when a finding is at or above this level [default: from config, else warning].",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for parsing [default: one per core].",
)
@click.option("--quiet", "-q", is_flag=True, help="Print no summary line.")
@click.option(
    "--statistics",
    is_flag=True,
    help="Print a count per rule (rule, count, severity) instead of the findings.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file (atomically) instead of stdout.",
)
@click.option(
    "--color",
    "color_mode",
    type=click.Choice(COLORS),
    default="auto",
    show_default=True,
    help="Colour the text format; auto: only on a terminal and when NO_COLOR is unset.",
)
@click.option(
    "--fix", "apply_fix", is_flag=True, help="Apply the safe fixes, then report what is left."
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print a unified diff of what --fix would change and write nothing; exit 1 if any.",
)
@click.option(
    "--watch", is_flag=True, help="Lint again whenever a file of the vault changes, until Ctrl-C."
)
def lint(
    paths: tuple[Path, ...],
    fmt: str,
    fail_on: str | None,
    jobs: int | None,
    quiet: bool,
    statistics: bool,
    output: Path | None,
    color_mode: str,
    apply_fix: bool,
    show_diff: bool,
    watch: bool,
) -> None:
    """Check a vault (a folder) or single notes for broken links and damaged text.

    Prints `path:line:col: severity rule message` a finding. Exit status: 0 clean, 1 findings
    at or above the fail level, 2 usage or configuration error.
    """
    from conceptgraph.api import lint_paths
    from conceptgraph.config import parse_fail_on
    from conceptgraph.errors import UsageError
    from conceptgraph.lint.engine import all_rules
    from conceptgraph.lint.report import (
        REPORTERS,
        STATISTICS,
        ReportContext,
        color_wanted,
        summary,
    )

    if statistics and fmt not in STATISTICS:
        raise UsageError(f"--statistics needs --format {' or '.join(STATISTICS)}, not {fmt}")
    targets = list(paths) or [Path(".")]
    if watch:
        _watch(click.get_current_context(), targets)
    if show_diff:
        raise SystemExit(_diff(targets, jobs, quiet))
    if apply_fix:
        from conceptgraph.fix import fix_paths

        fixes, result = fix_paths(targets, jobs)
        for skip in fixes.skipped:
            click.echo(f"conceptgraph: {skip}", err=True)
        if not quiet:
            click.echo(fixes.describe("Fixed"), err=True)
    else:
        result = lint_paths(targets, jobs=jobs)
    color = fmt == "text" and color_wanted(color_mode, output is None and sys.stdout.isatty())
    context = ReportContext.create(
        result.findings, result.roots, rules=all_rules(), cwd=Path.cwd().resolve(), color=color
    )
    report = (STATISTICS if statistics else REPORTERS)[fmt](result.findings, context)
    if output is None:
        sys.stdout.write(report)
    else:
        _write_report(output, report)
    # With --output, stdout is free and stderr carries the summary whatever the format.
    if (fmt == "text" or output is not None) and not quiet:
        click.echo(summary(result.findings, result.notes), err=True)
    if fail_on is not None:
        levels = [parse_fail_on(fail_on)]
    else:
        levels = [vault.config.fail_on for vault in result.vaults]
    failing = any(
        level is not None and finding.severity >= level
        for level in levels
        for finding in result.findings
    )
    raise SystemExit(ExitCode.FINDINGS if failing else ExitCode.CLEAN)


def _write_report(path: Path, report: str) -> None:
    from conceptgraph.atomic import write_atomic
    from conceptgraph.errors import UsageError

    try:
        write_atomic(path, report.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _diff(paths: list[Path], jobs: int | None, quiet: bool) -> ExitCode:
    """Print what --fix would change as a unified diff; write nothing."""
    from conceptgraph.api import lint_paths
    from conceptgraph.fix import plan_fixes, unified_diff

    plan = plan_fixes(lint_paths(paths, jobs=jobs))
    sys.stdout.write(unified_diff(plan))
    for skip in plan.skipped:
        click.echo(f"conceptgraph: {skip}", err=True)
    if not quiet:
        click.echo(plan.describe("Would fix"), err=True)
    return ExitCode.FINDINGS if plan.files else ExitCode.CLEAN


def _watch(ctx: click.Context, paths: list[Path]) -> None:
    """Run this lint command now and again after every change, until interrupted."""
    from conceptgraph.errors import ConceptgraphError, UsageError
    from conceptgraph.watch import changes, snapshot, watch_roots

    params = {**ctx.params, "watch": False}
    if params["apply_fix"] or params["show_diff"]:
        # Rewriting notes while someone edits them would fight their editor.
        raise UsageError("--watch cannot be used with --fix or --diff")
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    roots = watch_roots(paths)
    # The report this command writes must not count as a change, or it would lint forever.
    output = params.get("output")
    ignore = [output.resolve()] if isinstance(output, Path) else []

    def once() -> None:
        try:
            ctx.invoke(lint, **params)
        except SystemExit:
            pass
        except ConceptgraphError as exc:
            # A half-written config must not end the watch: say so and wait for the next save.
            click.echo(f"conceptgraph: {exc}", err=True)
        sys.stdout.flush()

    where = ", ".join(str(root) for root in roots)
    click.echo(f"Watching {where} for changes; press Ctrl-C to stop.", err=True)
    before = snapshot(roots, ignore)
    once()
    for touched in changes(roots, ignore=ignore, since=before):
        names = ", ".join(sorted(path.name for path in touched)[:3])
        more = f" and {len(touched) - 3} more" if len(touched) > 3 else ""
        click.echo(f"Changed: {names}{more}; linting again.", err=True)
        once()


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Output format.",
)
def rules(name: str | None, fmt: str) -> None:
    """List every rule, one a line: name, family, default severity, fixable, summary.

    With NAME, print that rule's documentation (what it flags, why, an example, what to write
    instead, its fix); a family name lists the family's rules.
    """
    from conceptgraph.docs import describe_rules
    from conceptgraph.lint.engine import all_rules

    sys.stdout.write(describe_rules(all_rules(), name, fmt))


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "-f",
    "fmt",
    default="turtle",
    show_default=True,
    help="turtle, ntriples, jsonld, rdfxml; dot, svg, png, mermaid, json.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (atomically) instead of stdout.",
)
@click.option("--base", default=None, help="Base IRI of the exported resources (RDF formats).")
@click.option("--focus", default=None, help="Only this note's neighbourhood (name, alias or path).")
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Steps from --focus, in both directions.",
)
@click.option(
    "--kinds",
    default=None,
    help="Edge kinds to keep, comma-separated (dependency,residual,negation,...).",
)
def export(
    vault: Path,
    fmt: str,
    output: Path | None,
    base: str | None,
    focus: str | None,
    depth: int,
    kinds: str | None,
) -> None:
    """Export a vault as RDF, a diagram, or graph JSON."""
    from conceptgraph.api import open_vault
    from conceptgraph.export import ExportOptions, find_format
    from conceptgraph.export import export as make_export

    find_format(fmt)
    options = ExportOptions(
        base=base,
        focus=focus,
        depth=depth,
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None,
    )
    data = make_export(open_vault(vault), fmt, options)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        from conceptgraph.atomic import write_atomic

        write_atomic(output, data)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn our errors into a message and exit 2 unless --traceback is given."""
    from conceptgraph.errors import ConceptgraphError

    args = sys.argv[1:] if argv is None else argv
    show_traceback = "--traceback" in args
    try:
        cli.main(args=args, prog_name="conceptgraph", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(ExitCode.ERROR) from None
    except ConceptgraphError as exc:
        if show_traceback:
            raise
        click.echo(f"conceptgraph: {exc}", err=True)
        raise SystemExit(ExitCode.ERROR) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except (SystemExit, BrokenPipeError):
        raise
    except Exception as exc:
        if show_traceback:
            raise
        click.echo(
            f"conceptgraph: internal error: {type(exc).__name__}: {exc}\n"
            "Run again with --traceback and report it.",
            err=True,
        )
        raise SystemExit(ExitCode.ERROR) from None
