"""The commands the README and the docs show are commands conceptgraph has.

Every ``conceptgraph ...`` line of a ``sh`` block names a real command, and every option it
gives is one that command takes: a renamed option cannot leave the docs behind."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from conceptgraph.cli import cli

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```(?:sh|bash|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _logical_lines(block: str) -> list[str]:
    """The block's lines, with a continued line (``\\``) or an open quote joined to the next."""
    lines: list[str] = []
    pending = ""
    for line in block.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:
            continue
        lines.append(pending)
        pending = ""
    assert not pending, f"a command never ends: {pending!r}"
    return lines


def shown_commands() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for block in _BLOCK.findall(page.read_text(encoding="utf-8")):
            for line in _logical_lines(block):
                line = line.removeprefix("$ ").strip()
                for part in re.split(r"\s*(?:&&|\|)\s*", line):
                    if part.startswith("conceptgraph "):
                        found.append((page.name, part))
    return found


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


def test_the_docs_show_commands_at_all() -> None:
    pages = {page for page, _ in shown_commands()}
    assert {"README.md", "lint.md", "rdf.md", "diagrams.md"} <= pages


@pytest.mark.parametrize(("page", "line"), shown_commands())
def test_a_command_shown_exists_with_its_options(page: str, line: str) -> None:
    words = shlex.split(line, comments=True)[1:]
    group_options = _options(cli)
    while words and words[0] in group_options:  # conceptgraph --parser NAME lint ...
        words = words[2:] if words[0] == "--parser" else words[1:]
    assert words, f"{page}: {line}"
    assert isinstance(cli, click.Group)
    command = cli.commands.get(words[0])
    assert command is not None, f"{page}: no command {words[0]!r} in {line!r}"
    known = _options(command)
    for word in words[1:]:
        if word.startswith("-") and word != "-":
            option = word.split("=", 1)[0]
            assert option in known, f"{page}: {words[0]} has no option {option} ({line!r})"
