"""The project explains itself: every Markdown file links only to files inside the repository (that
exist, anchors included) or to public http(s) URLs, and none sends the reader outside the clone."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "docs/architecture.md", "docs/api.md"]

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
_CODE = re.compile(r"(`+)(?:(?!\1).)+\1", re.S)
_INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|ftp|file|mailto):[^>\s]+)>")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def markdown_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return sorted(ROOT / name for name in listed if (ROOT / name).is_file())


def prose(text: str) -> str:
    """The text without fenced code blocks and code spans, where nothing is a link."""
    return _CODE.sub("", _FENCE.sub("", text))


def links(text: str) -> list[str]:
    body = prose(text)
    return _INLINE.findall(body) + _REFERENCE.findall(body) + _AUTOLINK.findall(body)


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(_FENCE.sub("", text)):
        plain = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", plain).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _public_host(host: str) -> bool:
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


def link_problem(target: str, source: Path, root: Path = ROOT) -> str | None:
    """Why `target`, linked from `source`, does not stay in the repository or go to a public URL."""
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        return None if _public_host(parts.hostname or "") else "not a public URL"
    if parts.scheme or parts.netloc:
        return f"scheme {parts.scheme or '//'!r} is neither http(s) nor a file of the repository"
    path = unquote(parts.path)
    if path.startswith("/"):
        return "an absolute path (links are relative to the file)"
    resolved = (source.parent / path).resolve() if path else source
    if not resolved.is_relative_to(root.resolve()):
        return "outside the repository"
    if not resolved.exists():
        return "no such file in the repository"
    headings = anchors(resolved.read_text(encoding="utf-8")) if resolved.suffix == ".md" else set()
    if parts.fragment and resolved.suffix == ".md" and unquote(parts.fragment).lower() not in headings:
        return f"no heading #{parts.fragment} in {resolved.relative_to(root.resolve())}"
    return None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("docs/architecture.md", None),
        ("docs/architecture.md#guarantees-and-where-each-is-enforced", None),
        ("docs/", None),
        ("#the-two-commands", None),
        ("https://developers.zoom.us/docs/api/", None),
        ("../shared/DESIGN.md", "outside the repository"),
        ("docs/../../shared/reference/zoom/meetings-openapi.json", "outside the repository"),
        ("/work/shared/DESIGN.md", "an absolute path"),
        ("file:///etc/passwd", "neither http(s)"),
        ("//example.com/x", "neither http(s)"),
        ("http://127.0.0.1:8000/api/v1/docs", "not a public URL"),
        ("http://localhost:5555", "not a public URL"),
        ("https://10.0.0.7/x", "not a public URL"),
        ("docs/nothing-here.md", "no such file"),
        ("#no-such-heading", "no heading #no-such-heading"),
        ("docs/architecture.md#nope", "no heading #nope"),
    ],
)
def test_link_problem(target: str, expected: str | None) -> None:
    problem = link_problem(target, ROOT / "README.md")
    assert problem == expected if expected is None else (problem is not None and expected in problem)


def test_links_ignore_code_and_find_every_form() -> None:
    text = (
        "See [a](one.md) and ![pic](img/two.png 'x') and <https://example.org/three>.\n"
        "`[not](code.md)` and\n```\n[not](fenced.md)\n```\n[ref]: four.md\n"
    )
    assert sorted(links(text)) == ["four.md", "https://example.org/three", "img/two.png", "one.md"]


def test_anchors_follow_github() -> None:
    text = "# The two commands\n## Zoom: sandbox or real\n## `make run`\n## Layout\n## Layout\n"
    assert anchors(text) == {"the-two-commands", "zoom-sandbox-or-real", "make-run", "layout", "layout-1"}


def test_required_documents_exist() -> None:
    assert [name for name in REQUIRED if not (ROOT / name).is_file()] == []
    assert list((ROOT / "docs" / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_links_stay_in_the_repository_or_are_public(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    problems = [f"{target}: {why}" for target in links(text) if (why := link_problem(target, path))]
    assert problems == []
    # the design notes the project was first built from are not part of it: never named as a path
    assert "DESIGN.md" not in text and "../shared" not in text


def test_readme_links_to_the_docs() -> None:
    readme_links = set(links((ROOT / "README.md").read_text(encoding="utf-8")))
    expected = {"docs/architecture.md", "docs/api.md", "docs/decisions/", "CONTRIBUTING.md", "CHANGELOG.md"}
    assert expected <= readme_links
