"""``python -m benchmarks``: runs every benchmark and rewrites the results section of ``benchmarks/README.md``.

A benchmark is any ``benchmarks/<name>.py`` with a top-level ``run(quick: bool)`` returning a ``benchmarks.table.Table``
or a list of them (see the top of ``benchmarks/README.md``). Each runs in a child process of its own, so one that
crashes or overruns its time costs only its own section. Browser and WebRTC benchmarks need a network namespace with
only loopback: outside one, the runner starts itself again inside one through ``scripts/in-loopback-netns``.

    python -m benchmarks [--quick] [--only connect_time,wire_throughput] [--budget-s 600] [--no-write]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks.table import Table  # noqa: E402
from tests.e2e.harness import only_loopback_interfaces  # noqa: E402

README = HERE / "README.md"
BEGIN = "<!-- benchmarks:begin (written by python -m benchmarks; edits here are overwritten) -->"
END = "<!-- benchmarks:end -->"
RESULT_MARK = "@@benchmark-result@@"
NOT_BENCHMARKS = {"__init__", "__main__", "table"}


def discover() -> dict[str, bool]:
    """Every ``benchmarks/*.py`` by name: True when it follows the convention (a top-level ``def run(quick...)``).
    Read from the source, so discovery imports nothing."""
    found: dict[str, bool] = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHMARKS:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        found[path.stem] = any(
            isinstance(node, ast.FunctionDef) and node.name == "run" and [a.arg for a in node.args.args] == ["quick"]
            for node in tree.body
        )
    return found


def machine() -> str:
    """One line on where the numbers came from: CPU, cores, memory, Python, and the commit."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.1f} GB RAM"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}; commit {commit or 'unknown'}"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def run_child(name: str, quick: bool) -> None:
    """In the child process: import the benchmark, run it, print its tables as JSON after a marker line."""
    import importlib

    module = importlib.import_module(f"benchmarks.{name}")
    result = module.run(quick)
    tables = result if isinstance(result, list) else [result]
    if not all(isinstance(t, Table) for t in tables):
        raise TypeError(f"benchmarks/{name}.py: run() must return a Table or a list of them")
    print(RESULT_MARK + json.dumps([t.to_json() for t in tables]), flush=True)


def run_benchmark(name: str, quick: bool, timeout_s: float) -> tuple[list[str], str | None, float]:
    """Runs one benchmark in a child process; its tables as Markdown, or why there are none, and the seconds taken."""
    started = time.monotonic()
    command = [sys.executable, "-m", "benchmarks", "--child", name, *(["--quick"] if quick else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return [], f"did not finish within {timeout_s:.0f} s", time.monotonic() - started
    elapsed = time.monotonic() - started
    results = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not results:
        return [], f"failed (exit status {done.returncode}); its output is above", elapsed
    tables = [Table.from_json(t) for t in json.loads(results[-1][len(RESULT_MARK) :])]
    return [t.markdown() for t in tables], None, elapsed


def section(quick: bool, started_at: str, loads: tuple[str, str], parts: list[str], summary: list[str]) -> str:
    lines = [
        BEGIN,
        "",
        f"## Latest run of every benchmark ({'quick' if quick else 'full'})",
        "",
        f"Run {started_at} by `python -m benchmarks{' --quick' if quick else ''}` on: {machine()}.",
        f"Load average (1 / 5 / 15 min) at the start: {loads[0]}; at the end: {loads[1]}. Other work may have "
        "been running: compare rows within a table, and ratios rather than absolute times.",
        "",
        *summary,
    ]
    for part in parts:
        lines.extend(["", part])
    lines.extend(["", END])
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Replaces what is between the markers (or puts the section after the convention, the first time)."""
    readme = README.read_text()
    if BEGIN.split(" (", maxsplit=1)[0] in readme and END in readme:
        head = readme[: readme.index(BEGIN.split(" (", maxsplit=1)[0])]
        tail = readme[readme.index(END) + len(END) :]
        README.write_text(head + text + tail)
        return
    anchor = "\n## "
    first_section = readme.find(anchor, readme.find("## Running them all") + 1)
    if first_section < 0:
        README.write_text(readme.rstrip() + "\n\n" + text + "\n")
    else:
        README.write_text(readme[: first_section + 1] + text + "\n" + readme[first_section:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's small version (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--budget-s", type=float, default=600.0, help="time for the whole run (default 600)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing the README")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.quick)
        return
    if not only_loopback_interfaces():
        wrapper = REPO / "scripts" / "in-loopback-netns"
        os.execv(str(wrapper), [str(wrapper), sys.executable, "-m", "benchmarks", *sys.argv[1:]])

    found = discover()
    wanted = [n.strip() for n in args.only.split(",") if n.strip()] or list(found)
    unknown = [n for n in wanted if n not in found]
    if unknown:
        sys.exit(f"no benchmark named {', '.join(unknown)}; there are: {', '.join(found)}")
    started_at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = load()
    deadline = time.monotonic() + args.budget_s
    parts: list[str] = []
    summary = ["| benchmark | seconds | result |", "|---|---:|---|"]
    for name in wanted:
        if not found[name]:
            summary.append(f"| `{name}` | | not run: it has no `run(quick)` yet (run it alone, see below) |")
            continue
        left = deadline - time.monotonic()
        if left < 10:
            summary.append(f"| `{name}` | | not run: the {args.budget_s:.0f} s budget was spent |")
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        tables, problem, elapsed = run_benchmark(name, args.quick, left)
        summary.append(f"| `{name}` | {elapsed:.0f} | {problem or 'ok'} |")
        parts.extend(tables)
    text = section(args.quick, started_at, (load_before, load()), parts, summary)
    if args.no_write:
        print(text)
    else:
        write_readme(text)
        print(text)
        print(f"\nwritten to {README.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
