"""notebooks/evaluate_an_agent.ipynb runs top to bottom in a real kernel against the local server, offline, and is
committed without outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from realtime_widget.server.launcher import LocalServer

from .conftest import server_env

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "evaluate_an_agent.ipynb"


def test_the_notebook_runs_offline_and_compares_the_variants(local_server: LocalServer, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    env = {key: value for key, value in server_env(local_server).items() if key != "MPLBACKEND"}
    env["PYTHONPATH"] = str(ROOT)  # the kernel imports this checkout
    shutil.copy(NOTEBOOK, tmp_path)  # runs/ is written beside the notebook
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert [out for out in outputs if "image/png" in out.get("data", {})], "the comparison plot"
    texts = "\n".join(str(out.get("data", {}).get("text/plain", "")) for out in outputs)
    assert "offers_more" in texts
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    assert len(list((runs[0] / "sessions").iterdir())) == 20  # 2 variants x 5 cases x 2 repeats
    assert local_server.violations() == []
