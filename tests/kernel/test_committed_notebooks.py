"""Every notebook in notebooks/ is committed as a reader should first see it: no outputs, no execution counts
(outputs would show one run's session ids and timings as if they were the reader's, and bloat every diff)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_the_committed_notebook_has_clean_outputs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    dirty = [i for i, cell in enumerate(code) if cell.outputs or cell.execution_count is not None]
    assert dirty == [], f"{path.name}: code cells {dirty} have outputs or execution counts; clear them"
