"""The package's layout: folders by stage, no import circle, and the old names still working."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import networkx as nx
import pytest

import conceptgraph
from conceptgraph._moved import MOVED

PACKAGE = Path(conceptgraph.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every conceptgraph module ``path`` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from a.b import c`` imports a.b, and a.b.c where c is a module.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def _graph() -> nx.DiGraph:
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        for imported in _imports(path, set(files)):
            # A module importing its own package's __init__ is not a circle of modules.
            if imported != name and not name.startswith(imported + "."):
                graph.add_edge(name, imported)
    return graph


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = _graph()
    assert graph.number_of_edges() > 100  # the walk found the package's imports
    assert list(nx.simple_cycles(graph)) == []


def test_the_stages_are_folders_with_a_docstring_each() -> None:
    for stage in ("note", "note.markdown", "vault", "lint", "export", "rdf"):
        module = importlib.import_module(f"conceptgraph.{stage}")
        assert module.__doc__ and len(module.__doc__.strip()) > 80, stage
        assert Path(module.__file__ or "").name == "__init__.py", stage


def test_lint_does_not_reach_the_rdf_services() -> None:
    graph = _graph()
    reached = nx.descendants(graph, "conceptgraph.lint.engine") | nx.descendants(
        graph, "conceptgraph.lint.incremental"
    )
    assert not {name for name in reached if name.startswith("conceptgraph.rdf")}


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_module_name_is_the_new_module_with_a_warning(old: str, new: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=rf"{old} is now {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new
    assert module.__spec__ is not None and module.__spec__.name == new


def test_the_documented_library_imports_keep_working() -> None:
    # docs/library.md before the layout named these; scripts hold them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from conceptgraph.fix import apply_fixes, fix_paths, plan_fixes, unified_diff
        from conceptgraph.triples import vault_rdf
    from conceptgraph.lint.fix import apply_fixes as new_apply

    assert apply_fixes is new_apply
    assert all(callable(f) for f in (fix_paths, plan_fixes, unified_diff, vault_rdf))


def test_python_m_an_old_name_runs_the_new_module(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conceptgraph.docs", "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=PACKAGE.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "conceptgraph.docs is now conceptgraph.lint.docs" in done.stderr
