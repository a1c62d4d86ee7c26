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


FORMATS = ("text", "json")
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
def lint(
    paths: tuple[Path, ...], fmt: str, fail_on: str | None, jobs: int | None, quiet: bool
) -> None:
    """Check a vault (a folder) or single notes for broken links and damaged text.

    Prints `path:line:col: severity rule message` a finding. Exit status: 0 clean, 1 findings
    at or above the fail level, 2 usage or configuration error.
    """
    from conceptgraph.api import lint_paths
    from conceptgraph.config import parse_fail_on
    from conceptgraph.lint.report import REPORTERS, summary

    result = lint_paths(list(paths) or [Path(".")], jobs=jobs)
    sys.stdout.write(REPORTERS[fmt](result.findings))
    if fmt == "text" and not quiet:
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
