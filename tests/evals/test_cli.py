"""python -m realtime_widget.evals from a shell, against the local server: exit 0 when every run passed, 1 when one
failed (listing it), 2 when the input is wrong (nothing runs)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from realtime_widget.evals.progress import Progress
from realtime_widget.server.launcher import LocalServer

from .conftest import server_env

REPO = Path(__file__).resolve().parents[2]

CASES = """
- name: greeting
  steps:
    - type: Hello there
    - expect_said: how can I help
- name: radio
  steps:
    - type: Thanks
    - expect_said: over\\.$
"""


def _evals(tmp_path: Path, server: LocalServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = server_env(server)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "realtime_widget.evals", *args, "--no-progress"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_exit_status_says_whether_every_run_passed(offline: LocalServer, tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(CASES)
    (tmp_path / "radio.yaml").write_text("radio:\n  instructions: 'Always end with \"Over.\"'\n")
    (tmp_path / "plain.yaml").write_text("plain: {}\n")
    passed = _evals(tmp_path, offline, "cases.yaml", "--variants", "radio.yaml", "--out", "runs")
    assert passed.returncode == 0, passed.stderr
    assert "pass_rate" in passed.stdout
    assert "saved in runs/" in passed.stdout
    failed = _evals(tmp_path, offline, "cases.yaml", "--variants", "plain.yaml", "--out", "runs")
    assert failed.returncode == 1, failed.stderr
    assert "1 of 2 runs failed" in failed.stderr
    assert "plain / radio / repeat 0, step 2 (assistant said /over\\.$/): the assistant did not match" in failed.stderr
    assert "| user: Thanks" in failed.stderr
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_bad_input_exits_2_before_anything_runs(offline: LocalServer, tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text("- name: c\n  steps: [{sai: hi}]\n")
    bad_case = _evals(tmp_path, offline, "cases.yaml")
    assert bad_case.returncode == 2
    assert "cases.yaml, case 'c', step 1: unknown step 'sai'; did you mean 'say'?" in bad_case.stderr
    (tmp_path / "cases.yaml").write_text(CASES)
    (tmp_path / "variants.yaml").write_text("loud: {voise: marin}\n")
    bad_variant = _evals(tmp_path, offline, "cases.yaml", "--variants", "variants.yaml")
    assert bad_variant.returncode == 2
    assert "variant 'loud': Session() got an unknown option 'voise'" in bad_variant.stderr
    assert not (tmp_path / "runs").exists()


def test_the_progress_line_counts_runs_and_failures() -> None:
    stream = io.StringIO()
    progress = Progress(3, stream=stream)
    for passed in (True, False, True):
        progress.advance(passed)
    progress.close()
    assert progress.line() == "evals: 3/3 runs done, 1 failed"
    assert "3/3" in stream.getvalue()
    quiet = io.StringIO()
    Progress(2, enabled=False, stream=quiet).advance(True)
    assert quiet.getvalue() == ""
