"""What a vault's ``.obsidian/`` folder says that conceptgraph follows, read as any vault file.

Obsidian keeps its settings as JSON files there. A file is read only inside the vault (a
symbolic link out of it is refused, see ``boundary``), at most a size cap, and one that is not
what Obsidian writes is a ``problem`` to report, never an exception.

Template folders: the Templates core plugin keeps its folder in ``.obsidian/templates.json``
(``{"folder": "Templates"}``), the Templater plugin in
``.obsidian/plugins/templater-obsidian/data.json`` (``"templates_folder"``). A note in such a
folder is a template: its ``{{title}}`` and ``<% tp.file.title %>`` placeholders are filled in
when it is used, so the rules that judge a note's links and properties leave it alone.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path

# (line, column, message) about the file, as a finding places it.
Problem = tuple[int, int, str]

TEMPLATE_SETTINGS = (
    (".obsidian/templates.json", "folder"),
    (".obsidian/plugins/templater-obsidian/data.json", "templates_folder"),
)
# {{title}}, {{date:YYYY}} (Templates), <% tp.file.title %> (Templater).
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|<%.*?%>", re.DOTALL)
# Obsidian's settings files are small; a plugin's can hold its cache. Beyond this, not read.
MAX_SETTINGS_BYTES = 1 << 20


def read_settings(
    root: Path, relative: str, allowed: tuple[str, ...] = (), limit: int = MAX_SETTINGS_BYTES
) -> tuple[object, Problem | None]:
    """The JSON value of the vault's settings file ``relative``: None if it is not there."""
    from conceptgraph.boundary import Boundary

    path = root / relative
    if not os.path.lexists(path):
        return None, None
    if not Boundary.of(root, allowed).allows(os.path.realpath(path)):
        return None, (1, 1, "a symbolic link that leads out of the vault; not read")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return None, (1, 1, f"cannot be read: {exc.strerror or exc}")
    if len(data) > limit:
        return None, (1, 1, f"larger than {limit // 1024} KB; not read")
    try:
        return json.loads(data.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, (1, 1, "not UTF-8 text; not read")
    except json.JSONDecodeError as exc:
        return None, (exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")
    except RecursionError:
        return None, (1, 1, "nested too deep to be Obsidian's; not read")


def template_folders(root: Path, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The vault's template folders, as vault paths without slashes at either end."""
    found: list[str] = []
    for relative, key in TEMPLATE_SETTINGS:
        settings, _ = read_settings(root, relative, allowed)
        folder = settings.get(key) if isinstance(settings, dict) else None
        if not isinstance(folder, str):
            continue
        # Obsidian takes "Templates", "/Templates/" and "./Templates" for the same folder.
        folder = posixpath.normpath(folder.replace("\\", "/").strip().strip("/"))
        if folder not in (".", "") and not folder.startswith("..") and folder not in found:
            found.append(folder)
    return tuple(found)


def in_folders(path: str, folders: tuple[str, ...]) -> bool:
    """Whether a vault path lies in one of ``folders`` (case counts, as in Obsidian's paths)."""
    return any(path.startswith(folder + "/") for folder in folders)


def holds_placeholder(text: str) -> bool:
    """Whether text holds a template's placeholder: a link to it names no note until filled."""
    return ("{{" in text or "<%" in text) and _PLACEHOLDER.search(text) is not None
