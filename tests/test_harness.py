"""The harness starts PostgreSQL and Redis only for the tests that opt in (tests/conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE = ["tests/unit/test_recurrence.py", "tests/unit/test_lifecycle_table.py", "tests/unit/test_signature.py"]
OPTED_IN = "tests/api/test_openapi.py::test_openapi_document_is_valid"


def test_pure_unit_tests_need_no_database_and_a_test_that_opts_in_does():
    """A session whose database and Redis cannot be reached: the pure unit tests all pass, and the one
    test that uses the database (through its directory's opt-in) errors in its setup, reaching for it."""
    env = {k: v for k, v in os.environ.items() if k not in ("HALAKA_TEST_STACK", "DATABASE_URL", "REDIS_URL")}
    env.update(
        TEST_DATABASE_URL="postgresql://nobody@127.0.0.1:1/unreachable",
        TEST_REDIS_URL="redis://127.0.0.1:1/0",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *PURE, OPTED_IN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    summary = re.search(r"(\d+) passed, 1 error in", output)
    assert summary and int(summary.group(1)) > 50, output[-3000:]
    assert "ERROR at setup of test_openapi_document_is_valid" in output, output[-3000:]
