"""The ``conceptgraph`` command: thin click wiring over ``conceptgraph.api``.

Imports stay light here: ``lint`` must start fast and never pull in rdflib or an HTTP stack.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from conceptgraph import __version__
from conceptgraph.note.markdown.engine import PARSERS, use_parser

if TYPE_CHECKING:
    from conceptgraph.edit.plan import Plan
    from conceptgraph.lint.rule import Rule
    from conceptgraph.model import Finding
    from conceptgraph.settings import Overrides
    from conceptgraph.vault.load import Vault


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


def _report_options(command: Callable[..., None]) -> Callable[..., None]:
    """The --format and --fail-on options of every command that reports findings."""
    command = click.option(
        "--exit-zero",
        is_flag=True,
        help="Exit 0 even when there are findings (2 still means an error).",
    )(command)
    command = click.option(
        "--fail-on",
        type=click.Choice(LEVELS),
        default=None,
        help="Exit 1 when a finding is at or above this level [default: config, else warning].",
    )(command)
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help="Output format.",
    )(command)


def _selection_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that pick rules and set configuration over the file (ruff's spelling).

    The command gets them as one ``overrides`` (a ``conceptgraph.settings.Overrides``).
    """

    @functools.wraps(command)
    def read(**params: Any) -> None:
        from conceptgraph.settings import Overrides

        select = params.pop("select")
        params["overrides"] = Overrides.from_options(
            config=params.pop("config"),
            isolated=params.pop("isolated"),
            select=select or None,
            extend_select=params.pop("extend_select"),
            ignore=params.pop("ignore") + params.pop("extend_ignore"),
            per_file_ignores=params.pop("per_file_ignores"),
        )
        command(**params)

    rules = "rule names or families, comma-separated; repeatable"
    options = [
        click.option(
            "--select",
            multiple=True,
            metavar="RULES",
            help=f"Run only these rules, instead of those the config picks ({rules}).",
        ),
        click.option(
            "--extend-select",
            multiple=True,
            metavar="RULES",
            help=f"Run these rules too, on top of those picked, even if off by default ({rules}).",
        ),
        click.option(
            "--ignore",
            multiple=True,
            metavar="RULES",
            help=f"Do not run these rules; an ignore wins over a select ({rules}).",
        ),
        click.option(
            "--extend-ignore",
            multiple=True,
            metavar="RULES",
            help="The same as --ignore (ruff's older name for it).",
        ),
        click.option(
            "--per-file-ignores",
            multiple=True,
            metavar="GLOB:RULES",
            help="Ignore RULES in notes whose vault path matches GLOB (repeatable); replaces "
            "the config's per-path-ignores.",
        ),
        click.option(
            "--config",
            multiple=True,
            metavar="FILE|'KEY = VALUE'",
            help="A configuration file to use instead of the vault's, or one TOML setting "
            "over it (repeatable), e.g. --config 'fail-on = \"error\"'.",
        ),
        click.option(
            "--isolated", is_flag=True, help="Read no configuration file: defaults and options."
        ),
        click.option(
            "--show-settings",
            is_flag=True,
            help="Print each vault's resolved configuration, where each value came from "
            "(default, the file, an option), and the rules that run; lint nothing.",
        ),
        click.option(
            "--show-files",
            is_flag=True,
            help="Print the notes that would be linted, one path a line; lint nothing.",
        ),
    ]
    for option in reversed(options):
        read = option(read)
    return read


def _use_parser(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        use_parser(value)
    return value


def _parser_option(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--parser",
        type=click.Choice(PARSERS),
        default=None,
        envvar="CONCEPTGRAPH_PARSER",
        expose_value=False,
        callback=_use_parser,
        help=(
            "Markdown engine: pyromark (fast: a line scanner for plain notes, then "
            "pulldown-cmark; what neither can vouch for goes to markdown-it) or markdown-it "
            "(markdown-it-py, the reference) [default: pyromark]."
        ),
    )(command)


def _cache_option(what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--cache/--no-cache`` (on by default, ``CONCEPTGRAPH_CACHE=0`` turns it off)."""
    return click.option(
        "--cache/--no-cache",
        "use_cache",
        default=True,
        show_default=True,
        envvar="CONCEPTGRAPH_CACHE",
        help=what,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="conceptgraph")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error.")
@_parser_option
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Lint, graph and query a vault of Markdown concept notes."""
    ctx.obj = {"traceback": traceback}


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_report_options
@_parser_option
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
@_cache_option(
    "Keep parsed notes and findings in VAULT/.conceptgraph-cache/ and check only what "
    "changed since the last run (same findings; --fix and --diff never use it)."
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Report only findings this baseline file does not hold; say how many it "
    "suppressed and how many of its entries no longer match.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Record today's findings in this file (sorted JSON, atomically; stale entries "
    "pruned) and exit 0.",
)
@_selection_options
def lint(
    paths: tuple[Path, ...],
    fmt: str,
    fail_on: str | None,
    exit_zero: bool,
    jobs: int | None,
    quiet: bool,
    statistics: bool,
    output: Path | None,
    color_mode: str,
    apply_fix: bool,
    show_diff: bool,
    watch: bool,
    use_cache: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    show_settings: bool,
    show_files: bool,
    overrides: Overrides,
) -> None:
    """Check a vault (a folder) or single notes for broken links and damaged text.

    Prints `path:line:col: severity rule message` a finding. Exit status: 0 clean, 1 findings
    at or above the fail level, 2 usage or configuration error.
    """
    from conceptgraph.api import lint_paths
    from conceptgraph.errors import UsageError
    from conceptgraph.lint.engine import all_rules
    from conceptgraph.lint.report import STATISTICS

    if statistics and fmt not in STATISTICS:
        raise UsageError(f"--statistics needs --format {' or '.join(STATISTICS)}, not {fmt}")
    if baseline is not None and write_baseline is not None:
        raise UsageError("--baseline reads a baseline, --write-baseline writes one: give one")
    targets = list(paths) or [Path(".")]
    if show_settings or show_files:
        raise SystemExit(_show(targets, overrides, show_settings, show_files, lint=True))
    if watch:
        _watch(click.get_current_context(), targets)
    if show_diff:
        code = _diff(targets, jobs, quiet, overrides)
        raise SystemExit(ExitCode.CLEAN if exit_zero else code)
    from conceptgraph import progress

    # A bar for a long run on a terminal, in the text format only: JSON, SARIF and the rest
    # are read by programs, and a bar in their stream (or beside it) is noise.
    bar = progress.shown(sys.stderr) if fmt == "text" and not quiet else contextlib.nullcontext()
    with bar:
        if apply_fix:
            from conceptgraph.lint.fix import fix_paths

            fixes, result = fix_paths(targets, jobs, overrides)
        else:
            result = lint_paths(targets, jobs=jobs, cache=use_cache, overrides=overrides)
    if apply_fix:
        for skip in fixes.skipped:
            click.echo(f"conceptgraph: {skip}", err=True)
        if not quiet:
            click.echo(fixes.describe("Fixed"), err=True)
    if write_baseline is not None:
        from conceptgraph.lint import baseline as baselines

        written = baselines.write_baseline(result, write_baseline)
        if not quiet:
            click.echo(baselines.describe_written(written, write_baseline), err=True)
        raise SystemExit(ExitCode.CLEAN)
    findings, roots, held = result.findings, result.roots, None
    if baseline is not None:
        from conceptgraph.lint import baseline as baselines

        applied = baselines.apply_baseline(result, baseline)
        findings, roots = applied.findings, applied.roots
        held = {"file": str(baseline), "suppressed": applied.suppressed, "stale": applied.stale}
    code = _report_findings(
        findings,
        roots,
        result.vaults,
        result.notes,
        rules=all_rules(),
        fmt=fmt,
        statistics=statistics,
        output=output,
        color_mode=color_mode,
        quiet=quiet,
        fail_on=fail_on,
        baseline=held,
    )
    if baseline is not None:
        click.echo(baselines.summary(applied, baseline), err=True)
    raise SystemExit(ExitCode.CLEAN if exit_zero else code)


def _show(
    targets: list[Path], overrides: Overrides, settings: bool, files: bool, *, lint: bool
) -> ExitCode:
    """Print the resolved settings (--show-settings) or the notes to lint (--show-files)."""
    from conceptgraph.api import lint_files, lint_settings
    from conceptgraph.errors import UsageError

    if settings and files:
        raise UsageError("--show-settings and --show-files: give one")
    if settings:
        from conceptgraph.settings import describe

        sys.stdout.write(describe(lint_settings(targets, overrides, pick_rules=lint)))
        return ExitCode.CLEAN
    cwd = Path.cwd().resolve()
    for path in lint_files(targets, overrides):
        shown = path.relative_to(cwd) if path.is_relative_to(cwd) else path
        click.echo(shown.as_posix())
    return ExitCode.CLEAN


def _report_findings(
    findings: list[Finding],
    roots: list[Path],
    vaults: list[Vault],
    notes: int,
    *,
    rules: Mapping[str, Rule],
    fmt: str,
    statistics: bool,
    output: Path | None,
    color_mode: str,
    quiet: bool,
    fail_on: str | None,
    baseline: Mapping[str, object] | None = None,
) -> ExitCode:
    """Print findings in a lint format (and the summary); the exit status they call for.

    ``roots[i]`` is the vault root of ``findings[i]``. The status is FINDINGS when a finding is
    at or above ``--fail-on``, or else the fail level of its vault's configuration.
    """
    from conceptgraph.config import parse_fail_on
    from conceptgraph.lint.report import (
        REPORTERS,
        STATISTICS,
        ReportContext,
        color_wanted,
        summary,
    )

    color = fmt == "text" and color_wanted(color_mode, output is None and sys.stdout.isatty())
    context = ReportContext.create(
        findings, roots, rules=rules, cwd=Path.cwd().resolve(), color=color, baseline=baseline
    )
    report = (STATISTICS if statistics else REPORTERS)[fmt](findings, context)
    if output is None:
        sys.stdout.write(report)
    else:
        _write_report(output, report)
    # With --output, stdout is free and stderr carries the summary whatever the format.
    if (fmt == "text" or output is not None) and not quiet:
        click.echo(summary(findings, notes), err=True)
    if fail_on is not None:
        given = parse_fail_on(fail_on)
        failing = given is not None and any(finding.severity >= given for finding in findings)
    else:
        # Each finding against its own vault's level: a vault that fails only on errors does
        # not fail on a warning because another vault of the run would.
        levels = {vault.root: vault.config.fail_on for vault in vaults}
        set_levels = [level for level in levels.values() if level is not None]
        strictest = min(set_levels) if set_levels else None  # a root no vault has: as before
        failing = any(
            (level := levels.get(root, strictest)) is not None and finding.severity >= level
            for finding, root in zip(findings, roots, strict=True)
        )
    return ExitCode.FINDINGS if failing else ExitCode.CLEAN


def _write_report(path: Path, report: str) -> None:
    from conceptgraph.atomic import write_atomic
    from conceptgraph.errors import UsageError

    try:
        write_atomic(path, report.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _diff(paths: list[Path], jobs: int | None, quiet: bool, overrides: Overrides) -> ExitCode:
    """Print what --fix would change as a unified diff; write nothing."""
    from conceptgraph.api import lint_paths
    from conceptgraph.lint.fix import plan_fixes, unified_diff

    plan = plan_fixes(lint_paths(paths, jobs=jobs, overrides=overrides))
    sys.stdout.write(unified_diff(plan))
    for skip in plan.skipped:
        click.echo(f"conceptgraph: {skip}", err=True)
    if not quiet:
        click.echo(plan.describe("Would fix"), err=True)
    return ExitCode.FINDINGS if plan.files else ExitCode.CLEAN


def _watch(ctx: click.Context, paths: list[Path]) -> None:
    """Run this lint command now and again after every change, until interrupted."""
    from conceptgraph.errors import ConceptgraphError, UsageError
    from conceptgraph.vault.read import release_frozen
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
        finally:
            release_frozen()  # what one run froze is not kept for the rest of the watch
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
    from conceptgraph.lint.docs import describe_rules
    from conceptgraph.lint.engine import all_rules

    sys.stdout.write(describe_rules(all_rules(), name, fmt))


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("text", "json", "html")),
    default="text",
    show_default=True,
    help="text: one screen; json: one object; html: one self-contained page with charts.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (atomically) instead of stdout.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for parsing [default: one per core].",
)
@_selection_options
def stats(
    vault: Path,
    fmt: str,
    output: Path | None,
    jobs: int | None,
    show_settings: bool,
    show_files: bool,
    overrides: Overrides,
) -> None:
    """Print a vault's health: notes, links, orphans, clusters, hubs, bridges, findings.

    Also the most linked notes, the deepest chains of structural dependencies and the
    findings per rule (of the rules lint runs; the rule options pick them, as for lint).
    `--format html` writes one page with charts that opens offline.
    """
    from conceptgraph.api import stats_vault
    from conceptgraph.stats import stats_html, stats_json, stats_text

    if show_settings or show_files:
        raise SystemExit(_show([vault], overrides, show_settings, show_files, lint=True))
    found = stats_vault(vault, jobs, overrides=overrides)
    report = {"text": stats_text, "json": stats_json, "html": stats_html}[fmt](found)
    if output is not None:
        _write_report(output, report)
    else:
        sys.stdout.write(report)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of conceptgraph.toml, for editors (Taplo, Even Better TOML).

    Save it beside the vault (`conceptgraph schema > conceptgraph.schema.json`) and put
    `#:schema ./conceptgraph.schema.json` on the first line of conceptgraph.toml.
    """
    from conceptgraph.schema import PACKAGED

    sys.stdout.write(PACKAGED.read_text(encoding="utf-8"))


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
    default=None,
    help="Steps from --focus, in both directions [default: 1].",
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
    depth: int | None,
    kinds: str | None,
) -> None:
    """Export a vault as RDF, a diagram, or graph JSON."""
    from conceptgraph.api import open_vault
    from conceptgraph.errors import UsageError
    from conceptgraph.export import ExportOptions, find_format, takes_the_route, write_export

    find_format(fmt)
    if depth is not None and focus is None:
        raise UsageError("--depth counts steps from --focus; give --focus NOTE too")
    options = ExportOptions(
        base=base,
        focus=focus,
        depth=1 if depth is None else depth,
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None,
    )
    from conceptgraph.atomic import atomic_output
    from conceptgraph.vault.read import gc_paused

    if takes_the_route(fmt) and options == ExportOptions(base=base):
        from conceptgraph.export.rdfroute import export_rdf_at  # loads Oxigraph: RDF alone

        data = export_rdf_at(vault, fmt, base)  # the same bytes, by the triples query makes

        def write(out: IO[bytes]) -> None:
            out.write(data)

    else:
        # Written as it is made: the graph JSON of a note of millions of links is 500 MB.
        write = functools.partial(write_export, open_vault(vault), fmt, options=options)
    # The graph is a dict an edge and no reference cycles: the cyclic collector only walked
    # them again and again (0.5 s of the 3.8 s a 10,000-note vault's graph JSON took, 1.1 s of
    # its DOT's 5.8 s).
    with gc_paused():
        if output is None:
            write(sys.stdout.buffer)
            sys.stdout.flush()
        else:
            with atomic_output(output) as out:
                write(out)


# Kept in step with conceptgraph.rdf.sparql.RESULT_FORMATS by a test, so --help imports no engine.
QUERY_FORMATS = ("table", "csv", "tsv", "json", "xml")


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path))
@click.argument("text", metavar="QUERY", required=False)
@click.option(
    "--file",
    "-f",
    "query_file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="Read the query from this file (- for stdin) instead of QUERY.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_FORMATS),
    default=None,
    help="SELECT and ASK results [default: table on a terminal, else tsv]. "
    "CONSTRUCT and DESCRIBE always print Turtle.",
)
@click.option("--base", default=None, help="Base IRI of the vault's resources (as for export).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the results to this file (atomically) instead of stdout.",
)
@_cache_option(
    "From the second query in a vault on, keep its triples in VAULT/.conceptgraph-cache/ "
    "and answer from them while no file of the vault changes (same answers)."
)
def query(
    vault: Path,
    text: str | None,
    query_file: Path | None,
    fmt: str | None,
    base: str | None,
    output: Path | None,
    use_cache: bool,
) -> None:
    """Run a SPARQL query over a vault, embedded: no server, no network.

    The prefixes rdf, rdfs, xsd, skos, dcterms, prov, cg (the conceptgraph vocabulary) and
    vault (the vault's base IRI) need no PREFIX line. SERVICE, LOAD, updates and a FROM naming
    another graph are refused before anything runs. Exit status: 0 done, 2 a refused or
    malformed query, or an unreadable vault.
    """
    from conceptgraph.api import query_vault
    from conceptgraph.errors import UsageError
    from conceptgraph.rdf.sparql import format_result, on_deep_stack

    if (text is None) == (query_file is None):
        raise UsageError("give the query as QUERY or with --file FILE, not both or neither")
    source = "query"
    if query_file is not None:
        source = "stdin" if str(query_file) == "-" else str(query_file)
        try:
            raw = sys.stdin.buffer.read() if source == "stdin" else query_file.read_bytes()
            text = raw.decode("utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read {query_file}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise UsageError(f"{query_file}: a query file must be UTF-8 ({exc.reason})") from exc
    assert text is not None
    query_text = text

    def run() -> bytes:
        found = query_vault(vault, query_text, base=base, source=source, cache=use_cache)
        wanted = fmt
        if wanted is None and found.kind != "graph":
            wanted = "table" if output is None and sys.stdout.isatty() else "tsv"
        return format_result(found, wanted)

    # The engine evaluates as the results are read: all of it on the engine's deep stack.
    data = on_deep_stack(run)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        from conceptgraph.atomic import write_atomic

        write_atomic(output, data)


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path))
@click.option(
    "--shapes",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="More SHACL shapes (Turtle, N-Triples, N3 or RDF/XML); repeat for several files.",
)
@click.option(
    "--engine",
    # conceptgraph.rdf.shacl.ENGINES, spelled out: importing that module imports rdflib.
    type=click.Choice(["fast", "pyshacl"]),
    default="fast",
    show_default=True,
    help="The validator: fast (SHACL Core and SHACL-SPARQL in memory; what it cannot do goes "
    "to pySHACL, and the run says so) or pyshacl, the reference.",
)
@_report_options
@click.option("--base", default=None, help="Base IRI of the vault's resources (as for export).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file (atomically) instead of stdout.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print no summary line.")
@click.option(
    "--color",
    "color_mode",
    type=click.Choice(COLORS),
    default="auto",
    show_default=True,
    help="Colour the text format; auto: only on a terminal and when NO_COLOR is unset.",
)
@_selection_options
def shacl(
    vault: Path,
    shapes: tuple[Path, ...],
    engine: str,
    fmt: str,
    fail_on: str | None,
    exit_zero: bool,
    base: str | None,
    output: Path | None,
    quiet: bool,
    color_mode: str,
    show_settings: bool,
    show_files: bool,
    overrides: Overrides,
) -> None:
    """Validate a vault's RDF against SHACL shapes: the shipped ones and --shapes.

    Each violation is a finding `shacl-<constraint>` (shacl-min-count, shacl-datatype, ...) at
    the note it came from, in any lint format; --select and the other rule options pick among
    them (their family is `shacl`). Exit status as for lint.
    """
    from conceptgraph.api import shacl_vault

    if show_settings or show_files:
        raise SystemExit(_show([vault], overrides, show_settings, show_files, lint=False))
    result = shacl_vault(vault, shapes, base=base, overrides=overrides, engine=engine)
    for note in result.notes:
        click.echo(f"shacl: {note}", err=True)
    findings = result.findings
    code = _report_findings(
        findings,
        [result.vault.root] * len(findings),
        [result.vault],
        len(result.vault.notes),
        rules={},
        fmt=fmt,
        statistics=False,
        output=output,
        color_mode=color_mode,
        quiet=quiet,
        fail_on=fail_on,
    )
    raise SystemExit(ExitCode.CLEAN if exit_zero else code)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--vault",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The vault to draw from [default: the vault each file is in].",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a diagram is out of date.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def render(files: tuple[Path, ...], vault: Path | None, check: bool, quiet: bool) -> None:
    """Fill the diagram and query blocks of Markdown files from their vault.

    A block is `<!-- conceptgraph:diagram focus=NOTE depth=N kinds=K,... -->`, then
    `<!-- /conceptgraph -->`: only the lines between the two change. A query block,
    `<!-- conceptgraph:query -->`, holds a ```sparql code block, and gets its results as a
    table below it. Exit status: 0 current
    (or updated), 1 with --check when a block is out of date, 2 on an error.
    """
    from conceptgraph.export.render import render_files

    result = render_files(list(files), vault=vault, check=check)
    for done in result.stale:
        lines = ", ".join(map(str, done.stale))
        if done.skipped is not None:
            click.echo(f"conceptgraph: {done.path}: not rendered: {done.skipped}", err=True)
        elif not quiet:
            verb = "out of date" if check else "updated"
            click.echo(f"{done.path}: {verb} (block at line {lines})", err=True)
    failing = any(done.skipped is not None or check for done in result.stale)
    raise SystemExit(ExitCode.FINDINGS if failing else ExitCode.CLEAN)


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=7878,
    show_default=True,
    help="Port to bind; 0 picks a free one.",
)
@click.option("--watch", is_flag=True, help="Follow edits to the vault without a restart.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a query may run before it is stopped (HTTP 503).",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Solutions or triples in one answer; more is cut (X-Result-Truncated).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Query worker processes [default: one per core, at least 2].",
)
@click.option(
    "--worker-memory",
    type=click.IntRange(min=0),
    default=None,
    metavar="MIB",
    help="MiB of memory each worker may hold; a query past it is stopped (HTTP 503); 0: no"
    " bound [default: a quarter of physical memory, shared by the workers].",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests whose Host header names NAME (repeatable); by default only"
    " loopback names and the bound address, against DNS rebinding.",
)
@click.option(
    "--cors",
    "cors",
    multiple=True,
    metavar="ORIGIN",
    help="Let pages of ORIGIN (e.g. https://app.example) query the endpoint (repeatable); other"
    " sites' pages are refused.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send a whole request (and to read on in an answer); a slow"
    " client is let go.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Connections served at once; one more is answered 503.",
)
@click.option("--base", default=None, help="Base IRI of the vault's resources.")
@_cache_option("Serve from the copy of the triples that query keeps, and keep one.")
def serve(
    vault: Path,
    host: str,
    port: int,
    watch: bool,
    timeout: float,
    max_rows: int,
    workers: int | None,
    worker_memory: int | None,
    allow_hosts: tuple[str, ...],
    cors: tuple[str, ...],
    request_timeout: float,
    max_connections: int,
    base: str | None,
    use_cache: bool,
) -> None:
    """Serve a vault as a read-only SPARQL 1.1 endpoint at /sparql, with a query page at /."""
    import dataclasses

    from conceptgraph.errors import UsageError
    from conceptgraph.rdf.serve import ServeOptions, is_loopback
    from conceptgraph.rdf.serve import serve as run_server

    if not vault.is_dir():
        raise UsageError(f"not a vault folder: {vault}")
    if not is_loopback(host):
        click.echo(
            f"conceptgraph: warning: binding {host} lets other machines query this vault",
            err=True,
        )
    options = ServeOptions(
        host=host,
        port=port,
        timeout=timeout,
        max_rows=max_rows,
        worker_memory=None if worker_memory is None else worker_memory << 20,
        allowed_hosts=allow_hosts,
        cors=tuple(origin.rstrip("/") for origin in cors),
        request_timeout=request_timeout,
        max_connections=max_connections,
        cache=use_cache,
    )
    if workers is not None:
        options = dataclasses.replace(options, workers=workers)

    def ready(url: str) -> None:
        click.echo(f"Serving {vault} at {url} (Ctrl-C to stop)", err=True)

    try:
        run_server(vault.resolve(), options, base=base, watch=watch, ready=ready)
    except KeyboardInterrupt:
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc


@cli.command()
@click.argument("vault", required=False, type=click.Path(path_type=Path))
# Editors' generic clients pass --stdio; it is the only transport, so it changes nothing.
@click.option("--stdio", is_flag=True, hidden=True)
# The default is conceptgraph.lsp.server.DEBOUNCE, not imported: `--help` must not load pygls.
@click.option(
    "--debounce",
    type=click.FloatRange(min=0),
    default=0.15,
    show_default=True,
    help="Seconds without a keystroke before an edited note is checked.",
)
def server(vault: Path | None, stdio: bool, debounce: float) -> None:
    """Run the language server for an editor, over stdin and stdout (see docs/editors.md).

    Without VAULT, each note opened belongs to the vault `lint FILE` would find for it.
    """
    from conceptgraph.errors import UsageError

    try:
        from conceptgraph.lsp.server import serve
    except ImportError as exc:
        raise UsageError(
            f"the language server needs pygls ({exc}): pip install 'conceptgraph[lsp]'"
        ) from exc
    if vault is not None and not vault.is_dir():
        raise UsageError(f"not a vault folder: {vault}")
    serve(vault, debounce)


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path))
@click.option(
    "--store",
    required=True,
    help="The store's Graph Store Protocol endpoint, e.g. http://127.0.0.1:7878/store.",
)
@click.option("--graph", default=None, help="Named graph to replace [default: the vault's IRI].")
@click.option("--user", default=None, help="User name for HTTP basic authentication.")
@click.option(
    "--password-env",
    default=None,
    metavar="VAR",
    help="Environment variable that holds the password (never a command-line value).",
)
@click.option("--base", default=None, help="Base IRI of the vault's resources.")
def push(
    vault: Path,
    store: str,
    graph: str | None,
    user: str | None,
    password_env: str | None,
    base: str | None,
) -> None:
    """Replace one named graph of an existing triple store with the vault's graph."""
    import os

    from conceptgraph.api import open_vault
    from conceptgraph.errors import UsageError
    from conceptgraph.export import ExportOptions
    from conceptgraph.export import export as make_export
    from conceptgraph.rdf.push import push_ntriples
    from conceptgraph.rdf.triples import check_base, default_base

    password = None
    if password_env is not None:
        if password_env not in os.environ:
            raise UsageError(f"--password-env {password_env}: no such environment variable")
        password = os.environ[password_env]
    loaded = open_vault(vault)
    iri = check_base(base) if base is not None else default_base(loaded.root)
    data = make_export(loaded, "ntriples", ExportOptions(base=iri))
    target = graph or iri
    if sys.stderr.isatty():
        with click.progressbar(length=len(data), label="pushing", file=sys.stderr) as bar:
            result = push_ntriples(data, store, target, user, password, bar.update)
    else:
        result = push_ntriples(data, store, target, user, password)
    click.echo(
        f"Pushed {result.triples} triples ({result.bytes} bytes) into <{result.graph}> at "
        f"{result.store} (HTTP {result.status}).",
        err=True,
    )


def _edit_vault(path: Path, vault: Path | None) -> Vault:
    from conceptgraph.api import find_vault_root, open_vault

    return open_vault(vault if vault is not None else find_vault_root(path))


def _finish_edit(plan: Plan, diff: bool, quiet: bool, done: str) -> None:
    """Show or write a plan of ``conceptgraph.edit``; exit 1 if a link had to be left."""
    from conceptgraph.edit import apply_plan, plan_diff

    for skip in plan.skipped:
        click.echo(f"conceptgraph: {skip}", err=True)
    links, files = len(plan.edits), len(plan.files)
    if diff:
        sys.stdout.write(plan_diff(plan))
        left = bool(plan.skipped)
    else:
        applied = apply_plan(plan)
        for path, reason in applied.skipped:
            click.echo(f"conceptgraph: {path}: {reason}", err=True)
        left = bool(plan.skipped or applied.skipped)
        if not quiet:
            click.echo(
                f"{done}; rewrote {links} link{'s' if links != 1 else ''} "
                f"in {files} file{'s' if files != 1 else ''}.",
                err=True,
            )
    raise SystemExit(ExitCode.FINDINGS if left else ExitCode.CLEAN)


_VAULT_OPTION = click.option(
    "--vault",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The vault [default: the one OLD or NOTE is in].",
)
_DIFF_OPTION = click.option(
    "--diff", is_flag=True, help="Show the changes as a unified diff; write nothing."
)
_QUIET_OPTION = click.option("--quiet", "-q", is_flag=True, help="Print no summary line.")


@cli.command(name="mv")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path())
@_VAULT_OPTION
@_DIFF_OPTION
@_QUIET_OPTION
def move(old: Path, new: str, vault: Path | None, diff: bool, quiet: bool) -> None:
    """Move or rename a note, a file or a folder, rewriting every link to it.

    Links keep their form (text shown, heading, embed, Markdown or wikilink); one that would
    become ambiguous gets the shortest path that makes it unique. Never writes over an
    existing file. Exit status: 0 done, 1 when a link could not be rewritten, 2 on an error.
    """
    from conceptgraph.edit import plan_move
    from conceptgraph.edit.move import plan_paths

    loaded = _edit_vault(old, vault)
    before, after = plan_paths(loaded, old, new)
    plan = plan_move(loaded, before, after)
    moved = plan.folders[0] if plan.folders else plan.moves[0]
    _finish_edit(plan, diff, quiet, f"Moved {moved.old} to {moved.new}")


@cli.command(name="rename-heading")
@click.argument("note", type=click.Path(path_type=Path))
@click.argument("old")
@click.argument("new")
@_VAULT_OPTION
@_DIFF_OPTION
@_QUIET_OPTION
def rename_heading(
    note: Path, old: str, new: str, vault: Path | None, diff: bool, quiet: bool
) -> None:
    """Rename a heading of NOTE, rewriting every link to it (`[[note#OLD]]`).

    Exit status: 0 done, 1 when a link could not be rewritten, 2 on an error.
    """
    from conceptgraph.edit import plan_rename_heading
    from conceptgraph.edit.move import plan_paths

    loaded = _edit_vault(note, vault)
    path, _ = plan_paths(loaded, note, note)
    plan = plan_rename_heading(loaded, path, old, new)
    _finish_edit(plan, diff, quiet, f"Renamed heading {old!r} of {path} to {new!r}")


@cli.command(name="rename-block")
@click.argument("note", type=click.Path(path_type=Path))
@click.argument("old")
@click.argument("new")
@_VAULT_OPTION
@_DIFF_OPTION
@_QUIET_OPTION
def rename_block(
    note: Path, old: str, new: str, vault: Path | None, diff: bool, quiet: bool
) -> None:
    """Rename a block id of NOTE (`^OLD`), rewriting every link to it (`[[note#^OLD]]`).

    Exit status: 0 done, 1 when a link could not be rewritten, 2 on an error.
    """
    from conceptgraph.edit import plan_rename_block
    from conceptgraph.edit.move import plan_paths

    loaded = _edit_vault(note, vault)
    path, _ = plan_paths(loaded, note, note)
    plan = plan_rename_block(loaded, path, old, new)
    _finish_edit(plan, diff, quiet, f"Renamed block ^{old.removeprefix('^')} of {path}")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn our errors into a message and exit 2 unless --traceback is given."""
    from conceptgraph.errors import ConceptgraphError

    args = sys.argv[1:] if argv is None else argv
    show_traceback = "--traceback" in args
    if show_traceback:
        # A rule's internal error is otherwise a finding: for a bug report, let it propagate.
        from conceptgraph.lint.engine import RAISE_RULE_ERRORS

        token = RAISE_RULE_ERRORS.set(True)
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
    finally:
        if show_traceback:
            RAISE_RULE_ERRORS.reset(token)
