"""Zoom's specs are found wherever the project is cloned, or the suite says at once how to get them.

The download is tested against a local HTTP server serving the copies this run found (these machines
cannot reach Zoom), and the whole path — a clone without the sibling `shared/`, the failure message,
`make zoom-specs`, then tests that use the cache — in a copy of the working tree under a temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import zoom_spec_files
from tests.zoom_spec_files import CACHE, SPECS, SUMS, SpecNotFound, download, locate, missing

ROOT = zoom_spec_files.ROOT
SPEC_VARIABLES = [spec.env for spec in SPECS.values()] + [zoom_spec_files.BASE_URL_ENV]


def _published(found_by: dict[str, Path]) -> dict[str, bytes]:
    """URL path -> body, laid out as Zoom publishes the files under its base URL."""
    return {f"/api-hub/{SPECS[name].url_path}": path.read_bytes() for name, path in found_by.items()}


@pytest.fixture(scope="module")
def real_specs() -> dict[str, Path]:
    """The spec files this run uses (the sibling copies on these machines)."""
    return {name: locate(name) for name in SPECS}


class _Server:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api-hub"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def spec_server(real_specs: dict[str, Path]) -> Iterator[_Server]:
    with _Server(_published(real_specs)) as server:
        yield server


def _layout(tmp_path: Path, *, sibling: bool = False, env: bool = False, cache: bool = False) -> tuple:
    """A clone folder under `tmp_path` with the spec in any of the three places; (root, environ, paths)."""
    root = tmp_path / "clone"
    root.mkdir()
    environ: dict[str, str] = {}
    paths: dict[str, Path] = {}
    body = b'{"openapi": "3.0.0", "paths": {}}'
    if sibling:
        paths["sibling"] = zoom_spec_files.sibling_dir(root) / "meetings-openapi.json"
    if env:
        paths["env"] = tmp_path / "elsewhere" / "endpoints.json"
        environ["ZOOM_MEETINGS_SPEC"] = str(paths["env"])
    if cache:
        paths["cache"] = zoom_spec_files.cache_dir(root) / "meetings-openapi.json"
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    if cache:
        digest = hashlib.sha256(body).hexdigest()
        (paths["cache"].parent / SUMS).write_text(f"{digest}  meetings-openapi.json\n")
    return root, environ, paths


@pytest.mark.parametrize(
    ("places", "expected"),
    [
        ({"env": True, "sibling": True, "cache": True}, "env"),
        ({"sibling": True, "cache": True}, "sibling"),
        ({"cache": True}, "cache"),
        ({"env": True}, "env"),
    ],
    ids=["env-first", "sibling-before-cache", "cache-last", "env-alone"],
)
def test_locate_order(tmp_path: Path, places: dict[str, bool], expected: str) -> None:
    root, environ, paths = _layout(tmp_path, **places)
    assert locate("meetings", root, environ) == paths[expected]


def test_nowhere_names_every_place(tmp_path: Path) -> None:
    root, environ, _ = _layout(tmp_path)
    with pytest.raises(SpecNotFound) as caught:
        locate("meetings", root, environ)
    message = str(caught.value)
    assert "$ZOOM_MEETINGS_SPEC" in message
    assert str(zoom_spec_files.sibling_dir(root) / "meetings-openapi.json") in message
    assert str(root / CACHE / "meetings-openapi.json") in message


def test_a_variable_naming_a_missing_file_is_an_error_even_with_a_sibling(tmp_path: Path) -> None:
    root, _, _ = _layout(tmp_path, sibling=True)
    with pytest.raises(SpecNotFound, match=r"\$ZOOM_MEETINGS_SPEC names .*nope.json, which is not a file"):
        locate("meetings", root, {"ZOOM_MEETINGS_SPEC": str(tmp_path / "nope.json")})


def test_cached_copy_must_match_its_checksum(tmp_path: Path) -> None:
    root, environ, paths = _layout(tmp_path, cache=True)
    paths["cache"].write_bytes(b'{"openapi": "3.0.0", "paths": {"/x": {}}}')
    with pytest.raises(SpecNotFound, match="does not match its checksum"):
        locate("meetings", root, environ)
    (paths["cache"].parent / SUMS).unlink()
    with pytest.raises(SpecNotFound, match="has no checksum"):
        locate("meetings", root, environ)


def test_missing_lists_each_spec_and_the_message_says_how_to_get_them(tmp_path: Path) -> None:
    root, environ, _ = _layout(tmp_path, sibling=True)  # the meetings spec only
    problems = missing(root, environ)
    assert len(problems) == 1 and "webhook" in problems[0]
    message = zoom_spec_files.how_to_get_them(problems)
    assert "make zoom-specs" in message
    assert "https://developers.zoom.us/api-hub/meetings/methods/endpoints.json" in message
    assert "https://developers.zoom.us/api-hub/meetings/events/webhooks.json" in message
    assert "ZOOM_MEETINGS_SPEC=" in message and "ZOOM_WEBHOOKS_SPEC=" in message


def test_download_caches_each_spec_with_its_checksum(
    tmp_path: Path, spec_server: _Server, real_specs: dict[str, Path]
) -> None:
    root = tmp_path / "clone"
    sums = download(spec_server.base_url, root)
    assert sorted(spec_server.requests) == sorted(f"/api-hub/{spec.url_path}" for spec in SPECS.values())
    for name, source in real_specs.items():
        cached = locate(name, root, {})
        assert cached == root / CACHE / SPECS[name].filename
        assert cached.read_bytes() == source.read_bytes()
        assert sums[cached.name] == hashlib.sha256(source.read_bytes()).hexdigest()
    recorded = (root / CACHE / SUMS).read_text().splitlines()
    assert recorded == sorted(f"{digest}  {name}" for name, digest in sums.items())


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<html>Sign in</html>", "did not answer JSON"),
        (b'{"message": "not found"}', "did not answer an OpenAPI document"),
        (None, "could not download"),
    ],
    ids=["html", "json-not-openapi", "404"],
)
def test_a_bad_download_keeps_the_cache_as_it_was(
    tmp_path: Path, real_specs: dict[str, Path], body: bytes | None, error: str
) -> None:
    root = tmp_path / "clone"
    files = _published(real_specs)
    with _Server(files) as good:
        download(good.base_url, root)
    before = {p.name: p.read_bytes() for p in (root / CACHE).iterdir()}
    webhooks = f"/api-hub/{SPECS['webhooks'].url_path}"
    if body is None:
        del files[webhooks]
    else:
        files[webhooks] = body
    with _Server(files) as bad, pytest.raises(SpecNotFound, match=error):
        download(bad.base_url, root)
    assert {p.name: p.read_bytes() for p in (root / CACHE).iterdir()} == before
    assert missing(root, {}) == []


def _clone_like_copy(target: Path) -> Path:
    """The working tree's files (tracked or new, as git sees them) copied to `target`: no .venv, var/,
    .git, and above all no sibling `shared/`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    return target


def _run(command: list[str], clone: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SPEC_VARIABLES}
    env.update(PYTHONPATH=str(clone), **extra_env)
    return subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=240)


def test_fresh_clone_fails_at_once_then_runs_after_make_zoom_specs(
    tmp_path: Path, spec_server: _Server
) -> None:
    clone = _clone_like_copy(tmp_path / "clone")
    assert not (clone.parent / "shared").exists()
    pytest_cmd = [sys.executable, "-m", "pytest", "-q"]

    started = time.monotonic()
    refused = _run([*pytest_cmd, "tests/sandbox/test_zoom_spec_helper.py"], clone)
    output = refused.stdout + refused.stderr
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "cannot find them" in output and "make zoom-specs" in output
    assert "passed" not in output and "skipped" not in output
    assert time.monotonic() - started < 60

    fetched = _run(["make", "zoom-specs"], clone, ZOOM_SPECS_BASE_URL=spec_server.base_url)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert sorted(p.name for p in (clone / CACHE).iterdir()) == sorted(
        [SUMS, *(spec.filename for spec in SPECS.values())]
    )

    ran = _run([*pytest_cmd, "tests/sandbox/test_zoom_spec_helper.py", "tests/unit/test_payloads.py"], clone)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert " passed" in output and "skipped" not in output


def test_a_skipped_test_fails_the_suite(tmp_path: Path) -> None:
    clone = _clone_like_copy(tmp_path / "clone")
    (clone / "tests" / "test_probe.py").write_text(
        "import pytest\n\n\ndef test_skips():\n    pytest.skip('not today')\n\n\n"
        "@pytest.mark.xfail(reason='expected')\ndef test_xfails():\n    raise AssertionError\n"
    )
    environ = {spec.env: str(locate(name)) for name, spec in SPECS.items()}
    result = _run([sys.executable, "-m", "pytest", "-q", "tests/test_probe.py"], clone, **environ)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "2 failed" in output and "allows no skipped test" in output and "not today" in output
