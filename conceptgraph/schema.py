"""The JSON Schema of ``conceptgraph.toml`` (and of ``[tool.conceptgraph]``), for editors.

Taplo and VS Code's Even Better TOML read it to complete keys and check values as you type.
It is made from what :mod:`conceptgraph.config` accepts (its keys, edge kinds, line endings,
property types) and from the rule registry (rule and family names), so the two cannot drift:
``python -m conceptgraph.schema`` writes ``conceptgraph/data/conceptgraph.schema.json`` (shipped
in the package) and ``docs/conceptgraph.schema.json`` (published with the docs); ``--check``
only says whether they are current. ``conceptgraph schema`` prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from conceptgraph.config import EDGE_KINDS, LINE_ENDINGS
from conceptgraph.model import Severity
from conceptgraph.note.properties import TYPES

PACKAGED = Path(__file__).parent / "data" / "conceptgraph.schema.json"
PUBLISHED = Path("docs") / "conceptgraph.schema.json"


def _strings(description: str, items: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "description": description,
        "type": "array",
        "items": items if items is not None else {"type": "string"},
    }


def _table(description: str, values: dict[str, object], **extra: object) -> dict[str, object]:
    return {
        "description": description,
        "type": "object",
        "additionalProperties": values,
        **extra,
    }


def build_schema() -> dict[str, object]:
    """The schema, as a JSON object."""
    from conceptgraph.lint.engine import all_rules

    rules = all_rules()
    names = sorted({*rules, *(r.family for r in rules.values())})
    rule_or_family: dict[str, object] = {
        "description": "A rule name or a family name (`conceptgraph rules` lists them).",
        "enum": names,
    }
    severities = [s.label for s in sorted(Severity, reverse=True)]
    severity: dict[str, object] = {"enum": severities}
    strings = {"type": "string"}
    properties: dict[str, object] = {
        "exclude": _strings("Globs of vault paths not to read (`templates/**`)."),
        "allow-symlinks-to": _strings(
            "Folders outside the vault that its symbolic links may lead into."
        ),
        "sections": _table(
            "Heading -> the edge kind its links make, over the defaults (Structural "
            "dependencies, Residuals, What this is NOT).",
            {"enum": list(EDGE_KINDS)},
        ),
        "select": _strings(
            "The rules that run, by name or family; empty: every rule on by default.",
            rule_or_family,
        ),
        "extend-select": _strings(
            "More rules, on top of select: also turns on rules that are off by default.",
            rule_or_family,
        ),
        "ignore": _strings("Rules or families that do not run; wins over select.", rule_or_family),
        "severity": _table(
            "Rule -> its severity instead of the default.",
            severity,
            propertyNames={"enum": sorted(rules)},
        ),
        "fail-on": {
            "description": "The least severity that makes `lint` exit 1; never: exit 0.",
            "enum": [*severities, "never"],
            "default": "warning",
        },
        "line-endings": {
            "description": "What line-endings requires: one kind per file, or LF or CRLF.",
            "enum": list(LINE_ENDINGS),
            "default": "consistent",
        },
        "per-path-ignores": _table(
            "Glob -> rules or families that do not report on the paths it matches.",
            _strings("Rules or families.", rule_or_family),
        ),
        "concept-key": {
            "description": "The property that makes a note a concept note.",
            "type": "string",
            "minLength": 1,
            "default": "type",
        },
        "required-keys": _strings("Properties every concept note must have (missing-key)."),
        "known-keys": _strings("More properties unknown-key accepts."),
        "allowed-values": _table(
            "Property -> the values it may take (invalid-value).", _strings("Values.")
        ),
        "required-sections": _table(
            'Type -> headings its concept notes must have; "*" for every concept note '
            "(missing-section).",
            _strings("Headings."),
        ),
        "properties": _table(
            "Property -> its Obsidian type, over .obsidian/types.json (property-type).",
            {"enum": list(TYPES)},
        ),
        "inverses": _table(
            "Link property -> its inverse, checked both ways round (missing-inverse).",
            {**strings, "minLength": 1},
        ),
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "conceptgraph configuration",
        "description": (
            "conceptgraph.toml at a vault's root, or [tool.conceptgraph] in a pyproject.toml "
            "at or above it; docs/configuration.md describes each key."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


def schema_text() -> str:
    """The schema as the files hold it: indented, keys in order, a newline at the end."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conceptgraph.schema [--check]``: write or check the schema files."""
    parser = argparse.ArgumentParser(prog="python -m conceptgraph.schema", description=main.__doc__)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = parser.parse_args(argv)
    text = schema_text()
    stale = [
        path
        for path in (PACKAGED, PUBLISHED)
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(f"{path}: out of date (run python -m conceptgraph.schema)", file=sys.stderr)
        return 1 if stale else 0
    from conceptgraph.atomic import write_atomic

    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"))
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
