"""Notebooks the browser tests write into JupyterLab's folder: a few code cells, the widget shown last."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(folder: Path, name: str, *cells: str) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / name)
    return name


def write_connection_notebook(folder: Path, name: str, options: str, transport: str = "auto") -> str:
    """A notebook showing a ``RealtimeWidget`` without turn detection, made with ``ConnectionOptions(options)`` and
    ``transport``."""
    return write_notebook(
        folder,
        name,
        "from realtime_widget import ConnectionOptions, RealtimeWidget\n"
        f"options = ConnectionOptions({options})\n"
        f"widget = RealtimeWidget(turn_detection=None, connection=options, transport={transport!r})\nwidget",
    )
