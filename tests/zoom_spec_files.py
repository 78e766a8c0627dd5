"""Where the test suite finds Zoom's own OpenAPI specs, and `make zoom-specs`, which caches them.

Zoom's files are never copied into the repository. Each spec is looked for, in this order:

1. the environment variable (``ZOOM_MEETINGS_SPEC``, ``ZOOM_WEBHOOKS_SPEC``): a path to the file;
2. beside the clone: ``../shared/reference/zoom/<file>``;
3. the cache ``var/zoom-specs/<file>``, filled by ``make zoom-specs`` (``python -m tests.zoom_spec_files``)
   from where Zoom publishes them, with the SHA-256 of each file recorded in ``var/zoom-specs/SHA256SUMS``
   and checked on every use, so a truncated or edited copy is never used silently.

A variable naming a missing file is an error, not a reason to look further. ``ZOOM_SPECS_BASE_URL``
replaces Zoom's base URL for the download (the suite's own test serves the files from a local server).
The test suite refuses to start without every spec (``tests/conftest.py``): there is no skipping.

Standard library only, so ``make zoom-specs`` needs nothing installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://developers.zoom.us/api-hub"
BASE_URL_ENV = "ZOOM_SPECS_BASE_URL"
CACHE = Path("var") / "zoom-specs"
SUMS = "SHA256SUMS"
DOWNLOAD_TIMEOUT = 60.0


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    env: str
    filename: str
    url_path: str  # under the base URL


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec(
            "meetings",
            "Meetings API",
            "ZOOM_MEETINGS_SPEC",
            "meetings-openapi.json",
            "meetings/methods/endpoints.json",
        ),
        Spec(
            "webhooks",
            "Meetings webhook events",
            "ZOOM_WEBHOOKS_SPEC",
            "meetings-webhooks-openapi.json",
            "meetings/events/webhooks.json",
        ),
    )
}


class SpecNotFound(Exception):
    """A spec is in none of the places, or its cached copy fails its checksum."""


def sibling_dir(root: Path = ROOT) -> Path:
    return root.parent / "shared" / "reference" / "zoom"


def cache_dir(root: Path = ROOT) -> Path:
    return root / CACHE


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_sums(directory: Path) -> dict[str, str]:
    """``filename -> sha256`` from ``SHA256SUMS`` (the format of ``sha256sum``), empty when absent."""
    sums_file = directory / SUMS
    if not sums_file.is_file():
        return {}
    sums = {}
    for line in sums_file.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            sums[name] = digest
    return sums


def _cached(spec: Spec, root: Path) -> Path | None:
    directory = cache_dir(root)
    path = directory / spec.filename
    if not path.is_file():
        return None
    expected = recorded_sums(directory).get(spec.filename)
    if expected is None:
        raise SpecNotFound(f"{path} has no checksum in {directory / SUMS}: run `make zoom-specs` again")
    if sha256(path) != expected:
        raise SpecNotFound(
            f"{path} does not match its checksum in {directory / SUMS} (changed or truncated since "
            "it was downloaded): run `make zoom-specs` again"
        )
    return path


def locate(name: str, root: Path = ROOT, environ: dict[str, str] | None = None) -> Path:
    """The file of spec ``name`` ("meetings" or "webhooks"): variable, sibling, then cache."""
    spec = SPECS[name]
    env = os.environ if environ is None else environ
    configured = env.get(spec.env)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise SpecNotFound(f"${spec.env} names {path}, which is not a file")
        return path
    sibling = sibling_dir(root) / spec.filename
    if sibling.is_file():
        return sibling
    cached = _cached(spec, root)
    if cached is not None:
        return cached
    cached_path = cache_dir(root) / spec.filename
    raise SpecNotFound(f"Zoom's {spec.title} spec is not in ${spec.env} (unset), {sibling} or {cached_path}")


def missing(root: Path = ROOT, environ: dict[str, str] | None = None) -> list[str]:
    """What is wrong with each spec that cannot be used; empty when the suite has them all."""
    problems = []
    for name in SPECS:
        try:
            locate(name, root, environ)
        except SpecNotFound as exc:
            problems.append(str(exc))
    return problems


def how_to_get_them(problems: list[str]) -> str:
    """The one message the suite stops with when a spec is missing."""
    variables = " ".join(f"{spec.env}=/path/to/{spec.filename}" for spec in SPECS.values())
    urls = ", ".join(f"{BASE_URL}/{spec.url_path}" for spec in SPECS.values())
    return (
        "The test suite checks every request and response against Zoom's own OpenAPI specs, and cannot "
        "find them:\n  - " + "\n  - ".join(problems) + "\nGet them with one of:\n"
        f"  make zoom-specs    (downloads {urls} into {CACHE}/)\n"
        f"  export {variables}\n"
        "Zoom's files are never copied into the repository."
    )


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        return response.read()


def _checked_document(url: str, body: bytes) -> None:
    """Refuse anything that is not an OpenAPI document with paths or webhooks (an HTML page, an error)."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise SpecNotFound(f"{url} did not answer JSON") from exc
    if not (
        isinstance(document, dict)
        and "openapi" in document
        and ("paths" in document or "webhooks" in document)
    ):
        raise SpecNotFound(f"{url} did not answer an OpenAPI document")


def download(base_url: str = BASE_URL, root: Path = ROOT) -> dict[str, str]:
    """Download every spec into the cache and record its SHA-256; returns ``filename -> sha256``.

    Each file is checked to be an OpenAPI document before it replaces the cached copy (written to a
    temporary file, then renamed), so a failed download never leaves a half-written spec behind.
    """
    if not base_url.startswith(("http://", "https://")):
        raise SpecNotFound(f"the base URL must be http(s), not {base_url!r}")
    directory = cache_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    sums = recorded_sums(directory)
    for spec in SPECS.values():
        url = f"{base_url.rstrip('/')}/{spec.url_path}"
        try:
            body = _fetch(url)
        except (urllib.error.URLError, OSError) as exc:
            raise SpecNotFound(f"could not download {url}: {exc}") from exc
        _checked_document(url, body)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=spec.filename, delete=False) as handle:
            handle.write(body)
        Path(handle.name).replace(directory / spec.filename)
        sums[spec.filename] = hashlib.sha256(body).hexdigest()
        (directory / SUMS).write_text(
            "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())), encoding="utf-8"
        )
    return sums


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Download Zoom's OpenAPI specs into var/zoom-specs/.")
    parser.add_argument("--base-url", default=os.environ.get(BASE_URL_ENV) or BASE_URL)
    args = parser.parse_args(argv)
    try:
        sums = download(args.base_url)
    except SpecNotFound as exc:
        print(f"make zoom-specs: {exc}", file=sys.stderr)
        return 1
    for name, digest in sorted(sums.items()):
        print(f"{CACHE / name}  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
