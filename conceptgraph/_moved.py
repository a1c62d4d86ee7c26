"""The modules' names before the package was arranged by stage, kept working with a warning.

``import conceptgraph.fix`` (or ``python -m conceptgraph.docs``) still gives the module under its
new name, :mod:`conceptgraph.lint.fix`, and warns once with ``DeprecationWarning``. The old name
is an alias, not a copy: patching either patches the one module.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

# old name -> new name; the names the README, the docs or users' scripts may hold.
MOVED = {
    "conceptgraph.cache": "conceptgraph.lint.cache",
    "conceptgraph.docs": "conceptgraph.lint.docs",
    "conceptgraph.fix": "conceptgraph.lint.fix",
    "conceptgraph.lint.shards": "conceptgraph.lint.parallel",
    "conceptgraph.frontmatter": "conceptgraph.note.frontmatter",
    "conceptgraph.linescan": "conceptgraph.note.markdown.plain",
    "conceptgraph.negation": "conceptgraph.note.negation",
    "conceptgraph.parse": "conceptgraph.note.parse",
    "conceptgraph.parsers": "conceptgraph.note.markdown.engine",
    "conceptgraph.pulldown": "conceptgraph.note.markdown.fast",
    "conceptgraph.simpleyaml": "conceptgraph.note.plain_frontmatter",
    "conceptgraph.wikilinks": "conceptgraph.note.wikilinks",
    "conceptgraph.render": "conceptgraph.export.render",
    "conceptgraph.push": "conceptgraph.rdf.push",
    "conceptgraph.server": "conceptgraph.rdf.serve",
    "conceptgraph.shacl": "conceptgraph.rdf.shacl",
    "conceptgraph.sparql": "conceptgraph.rdf.sparql",
    "conceptgraph.storecache": "conceptgraph.rdf.store",
    "conceptgraph.triples": "conceptgraph.rdf.triples",
}


# Not a subclass of importlib.abc's finder and loader: the import system asks only for these
# methods, and importing importlib.abc (with importlib.resources, tempfile, random...) cost
# 9 ms of every command's start.
class _Alias:
    """Finds an old name and loads it as the module of the new name."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, cast("Loader", self))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(_said(spec.name), DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._specs[new] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system has set the alias's spec on the module it was given: put the
        # module's own back, so that it still knows its name and file.
        module.__spec__ = self._specs[module.__name__]

    def get_code(self, fullname: str) -> CodeType | None:
        """The new module's code, for ``python -m OLD`` (runpy asks the loader for it)."""
        # A command typed by a person, not an import in a program: FutureWarning is shown.
        warnings.warn(_said(fullname), FutureWarning, stacklevel=2)
        import importlib.abc

        spec = importlib.util.find_spec(MOVED[fullname])
        loader = spec.loader if spec else None
        if not isinstance(loader, importlib.abc.InspectLoader):
            return None
        return loader.get_code(MOVED[fullname])


def _said(old: str) -> str:
    return f"{old} is now {MOVED[old]}; the old name will be removed in conceptgraph 1.0"


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
