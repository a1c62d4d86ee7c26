"""The configuration one run uses: the vault's file, then the command line over it.

Spelt as ruff spells it. ``--config FILE`` reads that file instead of the one found at the
vault, ``--config 'key = value'`` (TOML) sets a key over the file, ``--isolated`` reads no file.
``--select`` replaces the rules the file picks, ``--extend-select`` adds to them, ``--ignore``
and ``--extend-ignore`` take away (an ignore wins, as in the file), ``--per-file-ignores``
replaces the file's ``per-path-ignores``. Each setting remembers where its value came from
(``default``, the file, or the option), for ``--show-settings``.

A selection from the command line ends up in the ``Config`` itself (as the list of rules it
turns on), so everything downstream, the lint cache's key included, sees it as configuration.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from conceptgraph.config import (
    Config,
    find_config_file,
    parse_config,
    read_config_table,
    with_vault_types,
)
from conceptgraph.errors import UsageError
from conceptgraph.model import Finding, Severity

DEFAULT = "default"

# Config field -> the key a file spells it with, in the order --show-settings prints them.
_KEYS = {
    "exclude": "exclude",
    "allow_symlinks_to": "allow-symlinks-to",
    "fail_on": "fail-on",
    "line_endings": "line-endings",
    "select": "select",
    "extend_select": "extend-select",
    "ignore": "ignore",
    "severity": "severity",
    "per_path_ignores": "per-path-ignores",
    "sections": "sections",
    "concept_key": "concept-key",
    "required_keys": "required-keys",
    "known_keys": "known-keys",
    "allowed_values": "allowed-values",
    "required_sections": "required-sections",
    "inverses": "inverses",
}


@dataclass(frozen=True, slots=True)
class Selection:
    """Rules picked on the command line: names or families; None where the option is not given."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    # --ignore and --extend-ignore mean the same (as in ruff, where the second is the old name).
    ignore: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] | None = None

    @property
    def picks_rules(self) -> bool:
        """Whether it changes which rules run (not only where they are ignored)."""
        return self.select is not None or bool(self.extend_select or self.ignore)

    def names(self) -> list[tuple[str, str]]:
        """Every rule or family it names, with the option that named it."""
        named = [("--select", n) for n in self.select or ()]
        named += [("--extend-select", n) for n in self.extend_select]
        named += [("--ignore", n) for n in self.ignore]
        for pattern, rules in (self.per_file_ignores or {}).items():
            named += [(f"--per-file-ignores {pattern}", n) for n in rules]
        return named

    def chooses(self, name: str, family: str, before: bool) -> bool:
        """Whether rule ``name`` of ``family`` runs; ``before``: whether it ran without this."""
        on = before if self.select is None else _named(name, family, self.select)
        if _named(name, family, self.extend_select):
            on = True
        return on and not _named(name, family, self.ignore)

    def check(self, known: Mapping[str, str], hint: str) -> None:
        """Refuse a name that is neither a rule of ``known`` (name -> family) nor a family."""
        from conceptgraph.lint.engine import nearest_hint

        families = set(known.values())
        for option, name in self.names():
            if name not in known and name not in families:
                near = nearest_hint(name, [*known, *families]) or f" ({hint})"
                raise UsageError(f"{option}: unknown rule or family {name!r}{near}")


def _named(name: str, family: str, names: Collection[str]) -> bool:
    return name in names or family in names


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the command line says about configuration; the default says nothing."""

    selection: Selection = field(default_factory=Selection)
    config_file: Path | None = None
    values: tuple[str, ...] = ()  # TOML snippets, each 'key = value'
    isolated: bool = False

    @classmethod
    def from_options(
        cls,
        *,
        config: Sequence[str] = (),
        isolated: bool = False,
        select: Sequence[str] | None = None,
        extend_select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        per_file_ignores: Sequence[str] = (),
    ) -> Overrides:
        """Read the options as given: each rule option a comma-separated list, repeatable."""
        files: list[Path] = []
        values: list[str] = []
        for given in config:
            if Path(given).is_file():
                files.append(Path(given))
                continue
            try:
                table = tomllib.loads(given)
            except tomllib.TOMLDecodeError as exc:
                if "=" not in given:
                    raise UsageError(f"--config {given}: no such file") from None
                raise UsageError(
                    f"--config {given!r}: neither a file nor TOML 'key = value' ({exc})"
                ) from None
            # Checked alone, so that a bad value is blamed on the option, not on the file.
            parse_config(table, f"--config {given!r}", given)
            values.append(given)
        if len(files) > 1:
            raise UsageError("--config FILE given twice: name one configuration file")
        if files and isolated:
            raise UsageError("--config FILE reads a file; --isolated reads none: give one")
        by_glob: dict[str, tuple[str, ...]] | None = None
        if per_file_ignores:
            by_glob = {}
            for entry in per_file_ignores:
                pattern, sep, rules = entry.rpartition(":")
                if not sep or not pattern or not rules.strip():
                    raise UsageError(f"--per-file-ignores {entry!r}: write GLOB:RULE[,RULE...]")
                by_glob[pattern] = by_glob.get(pattern, ()) + _split([rules])
        selection = Selection(
            select=None if select is None else _split(select),
            extend_select=_split(extend_select),
            ignore=_split(ignore),
            per_file_ignores=None if by_glob is None else MappingProxyType(by_glob),
        )
        return cls(selection, files[0] if files else None, tuple(values), isolated)


def _split(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Resolved:
    """A vault's configuration for this run, and where each setting's value came from."""

    root: Path
    config: Config
    file: Path | None
    origins: Mapping[str, str]  # file key -> "default", the file's path or the option
    rules: tuple[str, ...] | None = None  # the rules that run, when they were worked out


def resolve(root: Path, overrides: Overrides, *, pick_rules: bool = True) -> Resolved:
    """The configuration of the vault at ``root`` with the command line applied.

    ``pick_rules`` applies the rule selection to the lint rules; ``shacl`` leaves it to its
    own findings (see ``keep_chosen``).
    """
    file: Path | None = None
    is_pyproject = False
    if overrides.config_file is not None:
        file = overrides.config_file.resolve()
        is_pyproject = file.name == "pyproject.toml"
    elif not overrides.isolated:
        found = find_config_file(root)
        if found is not None:
            file, is_pyproject = found
    data: dict[str, object] = {}
    text = ""
    if file is not None:
        data, text = read_config_table(file, is_pyproject)
    origins = {key: str(file) for key in data}
    for snippet in overrides.values:
        table = tomllib.loads(snippet)
        data = _merged(data, table)
        origins.update(dict.fromkeys(table, f"--config {snippet!r}"))
    source = str(file) if file is not None else "--config"
    config = parse_config(data, source, text) if data or file is not None else Config()
    config = with_vault_types(config, root)
    selection = overrides.selection
    rules: tuple[str, ...] | None = None
    if pick_rules:
        config, rules = _pick(config, selection)
        if selection.picks_rules:
            origins["select"] = origins["ignore"] = _options(selection)
    if selection.per_file_ignores is not None:
        config = dataclasses.replace(config, per_path_ignores=selection.per_file_ignores)
        origins["per-path-ignores"] = "--per-file-ignores"
    return Resolved(root, config, file, MappingProxyType(origins), rules)


def _options(selection: Selection) -> str:
    given = [
        option
        for option, value in (
            ("--select", selection.select is not None),
            ("--extend-select", bool(selection.extend_select)),
            ("--ignore", bool(selection.ignore)),
        )
        if value
    ]
    return ", ".join(given)


def _merged(base: Mapping[str, object], over: Mapping[str, object]) -> dict[str, object]:
    """``base`` with ``over`` laid on it; tables merge key by key ('severity.x = ...')."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _pick(config: Config, selection: Selection) -> tuple[Config, tuple[str, ...]]:
    """The configuration with the command line's selection in it, and the rules that run."""
    from conceptgraph.lint.engine import all_rules, selected_rules

    registry = all_rules()
    selection.check({name: r.family for name, r in registry.items()}, "conceptgraph rules")
    before = {r.name for r in selected_rules(config)}
    if not selection.picks_rules:
        return config, tuple(name for name in registry if name in before)
    chosen = tuple(
        name for name, r in registry.items() if selection.chooses(name, r.family, name in before)
    )
    if not chosen:
        raise UsageError("the rule selection leaves no rule to run")
    # Named one by one: an empty select would mean every rule.
    return dataclasses.replace(config, select=chosen, extend_select=(), ignore=()), chosen


def keep_chosen(findings: Iterable[Finding], selection: Selection, family: str) -> list[Finding]:
    """The findings of rules outside the registry (all of ``family``) the selection keeps."""
    from conceptgraph.lint.engine import path_ignored

    table = selection.per_file_ignores or {}
    return [
        f
        for f in findings
        if selection.chooses(f.rule, family, True)
        and not path_ignored(f.path, (f.rule, family), table)
    ]


# --------------------------------------------------------------------------- --show-settings


def describe(resolved: Sequence[Resolved]) -> str:
    """Each vault's settings as TOML, each with a comment saying where its value came from."""
    out: list[str] = []
    for vault in resolved:
        out.append(f"# vault: {vault.root}")
        out.append(f"# config file: {vault.file if vault.file is not None else 'none'}")
        lines = [
            (f"{key} = {_toml(getattr(vault.config, name))}", vault.origins.get(key, DEFAULT))
            for name, key in _KEYS.items()
        ]
        out += [f"{line}  # {origin}" for line, origin in lines]
        if vault.rules is not None:
            out.append(f"# rules that run ({len(vault.rules)}): {', '.join(vault.rules)}")
        out.append("")
    return "\n".join(out)


def _toml(value: object) -> str:
    """A setting's value in TOML's inline syntax."""
    if value is None:
        return '"never"'  # the only setting that may be None is fail-on
    if isinstance(value, Severity):
        return json.dumps(value.label)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = ", ".join(
            f"{json.dumps(str(k), ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()
        )
        return "{" + (f" {items} " if items else "") + "}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)
