"""The package's shape, checked: no module-level import cycles, the server's layers import only downwards, and the
kernel can start the local server without loading WebRTC."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import realtime_widget

PACKAGE_ROOT = Path(realtime_widget.__file__).parent
#: The server's layers, top to bottom: a layer may import the ones after it, never the ones before.
SERVER_LAYERS = ("http", "transports", "session", "voice")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """Modules imported when ``module`` is imported: not inside functions, not under ``TYPE_CHECKING``."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                # `from package import submodule` depends on the submodule, not on what the package's __init__
                # defines; any other name comes from the module itself.
                submodules = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules}
                found.update(submodules)
                if len(submodules) < len(node.names):
                    found.add(base)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text()).body)
    return found


def _import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE_ROOT.rglob("*.py")}
    names = set(paths)
    return {m: {d for d in _top_level_imports(p, m, names) if d in paths and d != m} for m, p in paths.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, root_imports in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(root_imports)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_level_import_cycles() -> None:
    assert _cycles(_import_graph()) == []


def test_server_layers_import_only_downwards() -> None:
    upward = []
    for module, imports in _import_graph().items():
        layer = _server_layer(module)
        if layer is None:
            continue
        for imported in imports:
            other = _server_layer(imported)
            if other is not None and SERVER_LAYERS.index(other) < SERVER_LAYERS.index(layer):
                upward.append(f"{module} imports {imported}")
    assert upward == []


def _server_layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == ["realtime_widget", "server"] and len(parts) > 2 and parts[2] in SERVER_LAYERS:
        return parts[2]
    return None


def test_starting_the_local_server_from_the_kernel_loads_no_webrtc() -> None:
    # The kernel starts the server as a child process; importing the launcher must not pull in aiortc (slow, and
    # it patches aioice for the whole process).
    code = "import realtime_widget, realtime_widget.server.launcher, sys; print('aiortc' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
