"""Write a vault's exports in every format to one folder: the repository's ``exports/``.

Usage, from the repository root::

    python -m conceptgraph.export.refresh                 # notes/ -> exports/
    python -m conceptgraph.export.refresh --check         # exit 1 if exports/ is stale
    python -m conceptgraph.export.refresh VAULT OUT_DIR   # another vault or folder

Each format goes to ``<vault name>.<extension>``: graph JSON, DOT, SVG and Mermaid, and the
RDF formats (Turtle, N-Triples, JSON-LD, RDF/XML) once ``conceptgraph.export.rdf`` exists.
PNG is left out: the SVG is the same picture, and a binary in the repository would only
grow it. Every export is deterministic, so running this twice changes nothing, and a
changed file means a changed vault (or a changed exporter).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from conceptgraph.api import open_vault
from conceptgraph.atomic import write_atomic
from conceptgraph.errors import ConceptgraphError
from conceptgraph.export import RDF_FORMATS, export, find_format

DIAGRAM_FORMATS = ("json", "dot", "svg", "mermaid")
_RDF_MODULE = "conceptgraph.export.rdf"


def refresh_formats() -> tuple[str, ...]:
    """The formats ``exports/`` holds: the RDF ones only once their exporter exists."""
    if importlib.util.find_spec(_RDF_MODULE) is None:
        return DIAGRAM_FORMATS
    return DIAGRAM_FORMATS + RDF_FORMATS


@dataclass(frozen=True, slots=True)
class Refresh:
    """What a refresh found: the files it wrote (or, with ``check``, would write)."""

    changed: tuple[Path, ...]
    unchanged: tuple[Path, ...]


def exports_of(vault_path: Path) -> dict[str, bytes]:
    """Every export of a vault, by file name (``notes.svg``)."""
    vault = open_vault(vault_path)
    stem = vault.root.name or "vault"
    files = {
        f"{stem}.{find_format(name).extension}": export(vault, name) for name in refresh_formats()
    }
    files["README.md"] = _readme(stem, files).encode("utf-8")
    return files


def refresh_exports(vault_path: Path, out_dir: Path, check: bool = False) -> Refresh:
    """Write every export of the vault to ``out_dir``, atomically, skipping current files.

    With ``check``, write nothing: only say which files are stale or missing.
    """
    files = exports_of(vault_path)
    changed: list[Path] = []
    unchanged: list[Path] = []
    if not check:
        out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = out_dir / name
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            current = None
        if current == data:
            unchanged.append(path)
            continue
        changed.append(path)
        if not check:
            write_atomic(path, data)
    return Refresh(tuple(changed), tuple(unchanged))


def _readme(stem: str, files: dict[str, bytes]) -> str:
    listing = "\n".join(f"- `{name}`" for name in files)
    return (
        f"# Exports of `{stem}/`\n\n"
        "Generated; do not edit. After changing a note, regenerate them from the repository "
        "root with\n\n"
        "```sh\npython -m conceptgraph.export.refresh\n```\n\n"
        "and commit the result. `.ci/run` fails while these files are stale.\n\n"
        f"{listing}\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the refresh from the command line; 0 done or current, 1 stale (--check), 2 error."""
    parser = argparse.ArgumentParser(
        prog="python -m conceptgraph.export.refresh",
        description="Write a vault's exports in every format (default: notes/ to exports/).",
    )
    parser.add_argument("vault", nargs="?", type=Path, default=Path("notes"))
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("exports"))
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    args = parser.parse_args(argv)
    try:
        result = refresh_exports(args.vault, args.out_dir, check=args.check)
    except ConceptgraphError as exc:
        print(f"conceptgraph: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"conceptgraph: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    verb = "stale" if args.check else "wrote"
    if not args.quiet:
        for path in result.changed:
            print(f"{verb} {path}", file=sys.stderr)
    if args.check and result.changed:
        print("Run `python -m conceptgraph.export.refresh` to update them.", file=sys.stderr)
        return 1
    if not result.changed and not args.quiet:
        print(f"{args.out_dir}: all {len(result.unchanged)} files current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
