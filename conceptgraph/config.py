"""Vault configuration, with defaults that fit concept notes like ``migration.md``.

It lives in ``conceptgraph.toml`` at the vault root, or in ``[tool.conceptgraph]`` of a
``pyproject.toml`` at or above it.

Example ``conceptgraph.toml``::

    exclude = ["templates/**", "archive/*.md"]
    fail-on = "warning"          # error | warning | info | never
    line-endings = "consistent"  # consistent | lf | crlf
    select = []                  # rule names or families; empty means all on by default
    extend-select = ["quality"]  # more rules, on top of select (rules off by default too)
    ignore = ["orphan-note"]

    # Concept notes: the notes that declare the concept key. Only they are held to required
    # keys, allowed values, sections and negations; plain Obsidian notes are not.
    concept-key = "type"
    required-keys = ["aliases", "type", "layer", "role", "canonical", "note_kind"]
    known-keys = ["source"]      # more keys that unknown-key accepts

    # Tables last: in TOML, every key after a [table] line belongs to that table.
    [sections]                   # heading -> edge kind
    "Structural dependencies" = "dependency"

    [severity]
    link-by-alias = "error"

    [per-path-ignores]           # glob -> rules or families
    "templates/*.md" = ["structure", "frontmatter"]

    [allowed-values]
    layer = ["substrate", "mechanism", "dynamics", "accounting"]

    [required-sections]          # "*": every concept note; a type: notes of that type
    "*" = ["Definition", "Preconditions", "Residuals", "Structural dependencies"]
    mechanism = ["Examples"]

    [properties]                 # property -> Obsidian type, over .obsidian/types.json
    status = "text"

    [inverses]                   # link property -> its inverse (missing-inverse)
    broader = "narrower"
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from conceptgraph.errors import ConfigError
from conceptgraph.model import Severity
from conceptgraph.names import heading_key
from conceptgraph.note.properties import TYPES, DeclaredTypes, read_types_file
from conceptgraph.obsidian import in_folders, template_folders

EDGE_KINDS = ("dependency", "residual", "negation", "link")
LINE_ENDINGS = ("consistent", "lf", "crlf")

DEFAULT_REQUIRED_KEYS = ("aliases", "type", "layer", "role", "canonical", "note_kind")
# Keys Obsidian itself and common plugins write, and the concept-note keys beyond the required.
DEFAULT_KNOWN_KEYS = (
    "canonical_of",
    "tags",
    "cssclasses",
    "publish",
    "permalink",
    "description",
    "created",
    "updated",
    "date",
    "source",
    "title",
)
DEFAULT_REQUIRED_SECTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"*": ("Definition", "Preconditions", "Residuals", "Structural dependencies")}
)

DEFAULT_SECTIONS: Mapping[str, str] = MappingProxyType(
    {
        "structural dependencies": "dependency",
        "residuals": "residual",
        "what this is not": "negation",
    }
)


@dataclass(frozen=True, slots=True)
class Config:
    """The settings of one vault."""

    source: str | None = None
    exclude: tuple[str, ...] = ()
    # Folders outside the vault that its symbolic links may lead into (see boundary.py).
    allow_symlinks_to: tuple[str, ...] = ()
    sections: Mapping[str, str] = field(default_factory=lambda: DEFAULT_SECTIONS)
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: Severity | None = Severity.WARNING
    line_endings: str = "consistent"
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    concept_key: str = "type"
    required_keys: tuple[str, ...] = DEFAULT_REQUIRED_KEYS
    known_keys: tuple[str, ...] = DEFAULT_KNOWN_KEYS
    allowed_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    required_sections: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: DEFAULT_REQUIRED_SECTIONS
    )
    # Obsidian's property types: .obsidian/types.json, then [properties] over it.
    property_types: DeclaredTypes = field(default_factory=DeclaredTypes)
    # Link properties that state a relation and its converse ("broader" = "narrower"), both
    # ways round; a property may be its own inverse ("related" = "related").
    inverses: Mapping[str, str] = field(default_factory=dict)
    # The folders of Obsidian's Templates and Templater plugins (see conceptgraph.obsidian).
    templates: tuple[str, ...] = ()

    def is_template(self, path: str) -> bool:
        """Whether a vault path is a template's, whose placeholders no rule but text's judges."""
        return in_folders(path, self.templates)

    def sections_required(self, note_type: object) -> tuple[str, ...]:
        """The headings a concept note of this type must have."""
        common = self.required_sections.get("*", ())
        own = self.required_sections.get(note_type, ()) if isinstance(note_type, str) else ()
        return common + tuple(title for title in own if title not in common)

    def edge_kind(self, section_title: str) -> str | None:
        """The edge kind links under a heading with this title make, if the heading is mapped.

        Titles compare as Obsidian compares headings, so "Structural dependencies:" counts.
        """
        return self.sections.get(heading_key(section_title))


_KEYS = {
    "exclude",
    "allow-symlinks-to",
    "sections",
    "select",
    "extend-select",
    "ignore",
    "severity",
    "fail-on",
    "line-endings",
    "per-path-ignores",
    "concept-key",
    "required-keys",
    "known-keys",
    "allowed-values",
    "required-sections",
    "properties",
    "inverses",
}


def find_config_file(root: Path) -> tuple[Path, bool] | None:
    """The file that configures a vault at ``root``, and whether it is a pyproject.toml."""
    own = root / "conceptgraph.toml"
    if own.is_file():
        return own, False
    for folder in (root, *root.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject, True
    return None


def load_config(root: Path) -> Config:
    """Read the vault's configuration, or the defaults when it has none.

    The property types Obsidian keeps in the vault's ``.obsidian/types.json`` are part of it:
    the types a run checks against, so a cache keyed on the configuration follows that file.
    """
    return with_vault_types(_load_settings(root), root)


def with_vault_types(config: Config, root: Path) -> Config:
    """``config`` with what the vault's ``.obsidian/`` declares.

    That is the property types of ``types.json`` (under the config's own) and the template
    folders of the Templates and Templater plugins.
    """
    from_file = read_types_file(root, config.allow_symlinks_to)
    templates = template_folders(root, config.allow_symlinks_to)
    if templates:
        config = dataclasses.replace(config, templates=templates)
    if not from_file.types and from_file.problem is None:
        return config
    types = {**from_file.types, **config.property_types.types}
    return dataclasses.replace(config, property_types=DeclaredTypes(types, from_file.problem))


def _load_settings(root: Path) -> Config:
    found = find_config_file(root)
    if found is None:
        return Config()
    path, is_pyproject = found
    data, text = read_config_table(path, is_pyproject)
    return parse_config(data, str(path), text)


def read_config_table(path: Path, is_pyproject: bool) -> tuple[dict[str, object], str]:
    """The settings table of a config file (unchecked), and the file's text."""
    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(f"not valid TOML: {exc}", str(path), line) from exc
    if is_pyproject:
        data = data.get("tool", {}).get("conceptgraph", {})
    return data, text


def parse_config(data: Mapping[str, object], source: str, text: str = "") -> Config:
    """Check a configuration table and turn it into a ``Config``."""

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{key}: {message}", source, _key_line(text, key))

    for key in data:
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise fail(key, f"unknown setting (known: {known})")
    exclude = _strings(data, "exclude", fail)
    select = _strings(data, "select", fail)
    extend_select = _strings(data, "extend-select", fail)
    ignore = _strings(data, "ignore", fail)
    sections = dict(DEFAULT_SECTIONS)
    raw_sections = data.get("sections", {})
    if not isinstance(raw_sections, dict):
        raise fail("sections", "must be a table of heading = edge kind")
    for title, kind in raw_sections.items():
        if kind not in EDGE_KINDS:
            raise fail(str(title), f"edge kind must be one of {', '.join(EDGE_KINDS)}")
        sections[heading_key(str(title))] = str(kind)
    severity: dict[str, Severity] = {}
    raw_severity = data.get("severity", {})
    if not isinstance(raw_severity, dict):
        raise fail("severity", "must be a table of rule = severity")
    for rule_name, level in raw_severity.items():
        try:
            severity[str(rule_name)] = Severity.parse(str(level))
        except ValueError as exc:
            raise fail(str(rule_name), str(exc)) from None
    try:
        fail_on = parse_fail_on(str(data.get("fail-on", "warning")))
    except ValueError as exc:
        raise fail("fail-on", str(exc)) from None
    line_endings = str(data.get("line-endings", "consistent"))
    if line_endings not in LINE_ENDINGS:
        raise fail("line-endings", f"must be one of {', '.join(LINE_ENDINGS)}")
    concept_key = data.get("concept-key", "type")
    if not isinstance(concept_key, str) or not concept_key:
        raise fail("concept-key", "must be a property name")
    required_keys = (
        _strings(data, "required-keys", fail) if "required-keys" in data else DEFAULT_REQUIRED_KEYS
    )
    known_keys = DEFAULT_KNOWN_KEYS + _strings(data, "known-keys", fail)
    required_sections = dict(DEFAULT_REQUIRED_SECTIONS)
    required_sections.update(_string_lists(data, "required-sections", fail))
    return Config(
        source=source,
        exclude=exclude,
        allow_symlinks_to=_strings(data, "allow-symlinks-to", fail),
        sections=MappingProxyType(sections),
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        severity=MappingProxyType(severity),
        fail_on=fail_on,
        line_endings=line_endings,
        per_path_ignores=MappingProxyType(_string_lists(data, "per-path-ignores", fail)),
        concept_key=concept_key,
        required_keys=required_keys,
        known_keys=known_keys,
        allowed_values=MappingProxyType(_string_lists(data, "allowed-values", fail)),
        required_sections=MappingProxyType(required_sections),
        property_types=DeclaredTypes(_property_types(data, fail)),
        inverses=MappingProxyType(_inverses(data, fail)),
    )


def _inverses(
    data: Mapping[str, object], fail: Callable[[str, str], ConfigError]
) -> dict[str, str]:
    table = data.get("inverses", {})
    if not isinstance(table, dict):
        raise fail("inverses", "must be a table of property = inverse property")
    pairs: dict[str, str] = {}
    for name, inverse in table.items():
        if not isinstance(inverse, str) or not inverse or not str(name):
            raise fail(str(name), "the inverse must be a property name")
        # Declared once, checked both ways: "broader" = "narrower" also makes narrower's
        # inverse broader. Property names compare without case, as Obsidian's do.
        for one, other in (
            (str(name).lower(), inverse.lower()),
            (inverse.lower(), str(name).lower()),
        ):
            if pairs.get(one, other) != other:
                raise fail(str(name), f"{one!r} is already the inverse of {pairs[one]!r}")
            pairs[one] = other
    return pairs


def _property_types(
    data: Mapping[str, object], fail: Callable[[str, str], ConfigError]
) -> dict[str, str]:
    table = data.get("properties", {})
    if not isinstance(table, dict):
        raise fail("properties", "must be a table of property = type")
    types: dict[str, str] = {}
    for name, kind in table.items():
        if kind not in TYPES:
            raise fail(
                str(name),
                f"the type {kind!r} in [properties] is not one of Obsidian's: {', '.join(TYPES)}",
            )
        types[str(name).lower()] = str(kind)
    return types


def parse_fail_on(text: str) -> Severity | None:
    """Read a fail level: a severity name, or ``never``."""
    if text.strip().lower() == "never":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise ValueError(f"{exc} or 'never'") from None


def _strings(
    data: Mapping[str, object], key: str, fail: Callable[[str, str], ConfigError]
) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of strings")
    return tuple(value)


def _string_lists(
    data: Mapping[str, object], key: str, fail: Callable[[str, str], ConfigError]
) -> dict[str, tuple[str, ...]]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise fail(key, "must be a table of name = list of strings")
    result: dict[str, tuple[str, ...]] = {}
    for name in table:
        result[str(name)] = _strings(table, str(name), fail)
    return result


def _has_tool_table(path: Path) -> bool:
    return "[tool.conceptgraph" in _read(path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", str(path)) from exc


def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*\"?{re.escape(key)}\"?[ \t]*=", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
