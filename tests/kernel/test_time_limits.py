"""The test suite's own time limits (tests/timeouts.py), checked in a pytest run of their own: a hung test fails
alone with a report, and one whose teardown hangs too ends its process, with the processes it started."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The suite's hooks, with reports written into the run's own folder and a short grace.
CONFTEST = """
from pathlib import Path
from tests import timeouts
from tests.conftest import pytest_runtest_protocol, pytest_timeout_set_timer

timeouts.ARTIFACTS = Path(__file__).parent / "artifacts"
timeouts.GRACE_S = 1
"""


def _run(folder: Path, tests: str) -> subprocess.CompletedProcess[str]:
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_inner.py").write_text(textwrap.dedent(tests))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_hung_test_fails_alone_and_leaves_its_stacks(tmp_path: Path) -> None:
    ran = _run(
        tmp_path,
        """
        import threading

        import pytest

        @pytest.mark.timeout(1)
        def test_hangs():
            threading.Event().wait()

        def test_after():
            pass
        """,
    )
    assert "1 failed, 1 passed" in ran.stdout, ran.stdout + ran.stderr
    assert "Timeout (>1.0s) from pytest-timeout" in ran.stdout
    report = (tmp_path / "artifacts" / "timeout-test_inner.py_test_hangs.txt").read_text()
    assert "test_inner.py::test_hangs ran past its 1 s limit" in report
    assert "-- thread MainThread" in report
    assert "threading.Event().wait()" in report  # where it hung


def test_a_teardown_that_hangs_too_ends_the_process_and_what_it_started(tmp_path: Path) -> None:
    child_pid = tmp_path / "child.pid"
    ran = _run(
        tmp_path,
        f"""
        import subprocess, sys, time

        import pytest

        @pytest.fixture
        def stuck():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
            open({str(child_pid)!r}, "w").write(str(child.pid))
            yield
            while True:
                time.sleep(0.1)

        @pytest.mark.timeout(1)
        def test_hangs(stuck):
            time.sleep(600)
        """,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert (tmp_path / "artifacts" / "timeout-test_inner.py_test_hangs-not-ended.txt").exists()
    pid = int(child_pid.read_text())
    # Killed, and reaped by init once its parent had gone: no such process any more, or a zombie on its way out.
    # A SIGKILLed process can still show as running for a moment on a loaded machine: wait for it to go.
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 30
    while _alive(stat) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(stat)


def _alive(stat: Path) -> bool:
    """Whether the process of this /proc/<pid>/stat still exists and is not a zombie."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
