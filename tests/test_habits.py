"""The habits of the project, kept true: the hooks run what `make lint` runs, one version everywhere,
a changelog in Keep a Changelog form, a licence the metadata names."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
_RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with `$(VENV)` expanded as the Makefile defines it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    venv = re.search(r"^VENV\s*:=\s*(\S+)$", makefile, re.M).group(1)
    block = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M)
    assert block, f"no target {target} in the Makefile"
    return [line.strip().replace("$(VENV)", venv) for line in block.group(1).splitlines()]


def test_pre_commit_hooks_run_what_make_lint_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert [hook["entry"] for hook in hooks] == make_recipe("lint")
    assert all(hook["language"] == "system" and hook["pass_filenames"] is False for hook in hooks)
    validated = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_one_version_in_pyproject_the_api_and_the_changelog(app) -> None:
    version = PYPROJECT["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = _RELEASE.findall(changelog)
    assert releases and releases[0][0] == version
    assert app.api_doc["info"]["version"] == version


def test_changelog_keeps_an_unreleased_section_first() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "https://keepachangelog.com/en/1.1.0/" in changelog
    sections = re.findall(r"^## (.+)$", changelog, re.M)
    assert sections[0] == "[Unreleased]"
    assert all(_RELEASE.match(f"## {s}") for s in sections[1:])
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert set(re.findall(r"^### (.+)$", changelog, re.M)) <= allowed


def test_licence_file_is_the_one_the_metadata_names() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert (ROOT / project["readme"]).is_file()


def test_tool_settings_live_in_pyproject() -> None:
    for stray in ("setup.cfg", "tox.ini", "pytest.ini", "ruff.toml", ".ruff.toml", ".flake8", "mypy.ini"):
        assert not (ROOT / stray).exists(), f"{stray}: tool settings belong in pyproject.toml"
    assert {"ruff", "pytest"} <= set(PYPROJECT["tool"])
