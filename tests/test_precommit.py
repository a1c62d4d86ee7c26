"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit against a temp git repo.

pre-commit installs a hook repository from git at a given rev. The hook repository here is a
fresh git repo holding a copy of this working tree (so uncommitted changes are what is tested);
pre-commit clones it and pip-installs it into its own virtualenv, dependencies from the package
index, under a temp PRE_COMMIT_HOME. That install is the slow part, so one repo and one
environment serve every step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
DAMAGED = "# C\n\nScheme A â†’ scheme B, see [[a]].\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def hook_repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repo with this working tree's package and hooks, committed; and its rev."""
    repo = tmp_path / "hooks"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "conceptgraph", repo / "conceptgraph", ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(REPO / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hooks")
    return repo, git(repo, "rev-parse", "HEAD")


def pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env["PRE_COMMIT_HOME"] = str(home)
    env["PRE_COMMIT_COLOR"] = "never"
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_hooks_under_pre_commit(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    hooks, rev = hook_repo(tmp_path)
    project = tmp_path / "project"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "a.md").write_text("# A\n\nSee [[b]] and [[nowhere]].\n")
    (project / "notes" / "b.md").write_text("# B\n\nBack to [[a]].\n")
    (project / "README.txt").write_text("not Markdown, not linted\n")
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hooks}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: conceptgraph-fix\n"
        "      - id: conceptgraph-lint\n"
        "      - id: conceptgraph-render\n"
    )
    git(project, "init", "-q")
    git(project, "add", "-A")
    home = tmp_path / "pre-commit-home"

    failed = pre_commit(project, home, "conceptgraph-lint")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "notes/a.md:3:15: error broken-link link target 'nowhere'" in failed.stdout

    (project / "notes" / "a.md").write_text("# A\n\nSee [[b]].\n")
    git(project, "add", "-A")
    passed = pre_commit(project, home, "conceptgraph-lint")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "conceptgraph lint" in passed.stdout and "Passed" in passed.stdout

    # The fix hook repairs the note; pre-commit fails the run because a file changed.
    (project / "notes" / "c.md").write_text(DAMAGED, encoding="utf-8")
    git(project, "add", "-A")
    fixing = pre_commit(project, home, "conceptgraph-fix")
    assert fixing.returncode == 1, fixing.stdout + fixing.stderr
    assert "files were modified by this hook" in fixing.stdout
    assert "Fixed 1 finding in 1 file." in fixing.stdout
    fixed = (project / "notes" / "c.md").read_text(encoding="utf-8")
    assert fixed == DAMAGED.replace("â†’", "→")

    git(project, "add", "-A")
    clean = pre_commit(project, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    # The render hook fills a stale diagram block; the next run finds it current.
    block = "<!-- conceptgraph:diagram vault=../notes focus=a -->\n<!-- /conceptgraph -->\n"
    (project / "docs").mkdir()
    (project / "docs" / "map.md").write_text(f"# Map\n\n{block}", encoding="utf-8")
    git(project, "add", "-A")
    rendering = pre_commit(project, home, "conceptgraph-render")
    assert rendering.returncode == 1, rendering.stdout + rendering.stderr
    assert "files were modified by this hook" in rendering.stdout
    assert "```mermaid\n" in (project / "docs" / "map.md").read_text(encoding="utf-8")
    git(project, "add", "-A")
    rendered = pre_commit(project, home, "conceptgraph-render")
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr


def test_manifest_and_readme_snippets_are_valid(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    import yaml

    def validate(kind: str, path: Path) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "pre_commit", kind, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    manifest = REPO / ".pre-commit-hooks.yaml"
    validate("validate-manifest", manifest)
    ids = {hook["id"] for hook in yaml.safe_load(manifest.read_text(encoding="utf-8"))}
    assert ids == {"conceptgraph-lint", "conceptgraph-fix", "conceptgraph-render"}

    page = (REPO / "docs" / "pre-commit.md").read_text(encoding="utf-8")
    snippets = page.split("```yaml\n")[1:]
    assert len(snippets) == 2
    for number, snippet in enumerate(snippets):
        config = tmp_path / f"config-{number}.yaml"
        config.write_text(snippet.split("```", 1)[0], encoding="utf-8")
        validate("validate-config", config)
        hooks = yaml.safe_load(config.read_text(encoding="utf-8"))["repos"][0]["hooks"]
        assert {hook["id"] for hook in hooks} <= ids
