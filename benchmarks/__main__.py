"""``python -m benchmarks``: runs every benchmark and rewrites the results section of ``benchmarks/README.md``.

A benchmark is any ``benchmarks/<name>.py`` with a top-level ``run(quick: bool)`` returning a ``benchmarks.table.Table``
or a list of them (see the top of ``benchmarks/README.md``). Each runs in a child process of its own, so one that
crashes or overruns its time costs only its own section: it gets at most its own ``BUDGET_S`` (a number at the top
of its module; ``DEFAULT_BUDGET_S`` without one) and never more than what is left of the whole run's. A benchmark
that finds something it needs missing (a Python package, Chromium) is skipped with a line saying what, rather than
failing the run. What a benchmark prints while it runs is shown as progress. Browser and WebRTC benchmarks need a
network namespace with only loopback: outside one, the runner starts itself again inside one through
``scripts/in-loopback-netns``.

    python -m benchmarks [--quick] [--only connect_time,wire_throughput] [--budget-s 600] [--no-write]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks.needs import UnavailableError  # noqa: E402
from benchmarks.table import Table  # noqa: E402
from tests.e2e.harness import only_loopback_interfaces  # noqa: E402

README = HERE / "README.md"
BEGIN = "<!-- benchmarks:begin (written by python -m benchmarks; edits here are overwritten) -->"
END = "<!-- benchmarks:end -->"
RESULT_MARK = "@@benchmark-result@@"
#: The runner and what benchmarks share, which are not benchmarks themselves.
NOT_BENCHMARKS = {"__init__", "__main__", "needs", "table", "browser_turns"}


DEFAULT_BUDGET_S = 180.0
#: After its budget a benchmark is interrupted (its ``finally`` blocks stop its servers and browsers); this long
#: after that, its process group is killed.
GRACE_S = 20.0


@dataclass(frozen=True)
class Benchmark:
    """A ``benchmarks/*.py`` as read from its source: whether it has ``run(quick)``, and its own time budget."""

    name: str
    runnable: bool
    budget_s: float


def read_benchmark(name: str, source: str) -> Benchmark:
    """``runnable`` when the module has a top-level ``def run(quick...)``; ``budget_s`` is its top-level
    ``BUDGET_S = <number>``, or ``DEFAULT_BUDGET_S``. Read from the source, so nothing is imported."""
    tree = ast.parse(source, filename=f"benchmarks/{name}.py")
    runnable = any(
        isinstance(node, ast.FunctionDef) and node.name == "run" and [a.arg for a in node.args.args] == ["quick"]
        for node in tree.body
    )
    budget = DEFAULT_BUDGET_S
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        named = any(isinstance(t, ast.Name) and t.id == "BUDGET_S" for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, int | float):
            budget = float(value.value)
    return Benchmark(name, runnable, budget)


def discover() -> dict[str, Benchmark]:
    """Every ``benchmarks/*.py`` by name (without importing any)."""
    return {
        path.stem: read_benchmark(path.stem, path.read_text())
        for path in sorted(HERE.glob("*.py"))
        if path.stem not in NOT_BENCHMARKS
    }


def time_allowed(budget_s: float, left_s: float) -> float:
    """A benchmark's timeout: its own budget, but never more than is left of the run's."""
    return max(0.0, min(budget_s, left_s))


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


SKIP_MARK = "@@benchmark-skipped@@"
OUR_PACKAGES = {"benchmarks", "realtime_widget", "tests"}


def run_child(name: str, quick: bool) -> None:
    """In the child process: import the benchmark, run it, print its tables as JSON after a marker line (or why it
    was skipped, after another)."""
    import importlib

    # Started from a script's background job, SIGINT may be ignored; the runner interrupts an overrunning
    # benchmark with it so that its finally blocks stop the servers and browsers it started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        module = importlib.import_module(f"benchmarks.{name}")
        result = module.run(quick)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in OUR_PACKAGES:
            raise  # a broken import of our own is a failure, not a missing extra
        print(f"{SKIP_MARK}needs the Python module `{exc.name}`, which is not installed", flush=True)
        return
    except UnavailableError as exc:
        print(f"{SKIP_MARK}{exc}", flush=True)
        return
    tables = result if isinstance(result, list) else [result]
    if not all(isinstance(t, Table) for t in tables):
        raise TypeError(f"benchmarks/{name}.py: run() must return a Table or a list of them")
    print(RESULT_MARK + json.dumps([t.to_json() for t in tables]), flush=True)


@dataclass
class Outcome:
    """What one benchmark's child process left: its tables as Markdown, or why there are none."""

    tables: list[str]
    problem: str | None
    seconds: float


def read_outcome(returncode: int | None, lines: list[str], seconds: float, timeout_s: float) -> Outcome:
    """Turns the child's exit status (None: it overran ``timeout_s``) and stdout lines into an ``Outcome``."""
    if returncode is None:
        return Outcome([], f"did not finish within its {timeout_s:.0f} s", seconds)
    skipped = [line[len(SKIP_MARK) :] for line in lines if line.startswith(SKIP_MARK)]
    if skipped and returncode == 0:
        return Outcome([], f"skipped: {skipped[-1]}", seconds)
    results = [line[len(RESULT_MARK) :] for line in lines if line.startswith(RESULT_MARK)]
    if returncode != 0 or not results:
        return Outcome([], f"failed (exit status {returncode}); its output is above", seconds)
    return Outcome([Table.from_json(t).markdown() for t in json.loads(results[-1])], None, seconds)


def stop_child(child: subprocess.Popen[str]) -> None:
    """Interrupts the benchmark (so it stops what it started), then kills its process group if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(signal.SIGINT)
    try:
        child.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def run_benchmark(name: str, quick: bool, timeout_s: float) -> Outcome:
    """Runs one benchmark in a child process of its own (and process group), echoing what it prints as progress."""
    started = time.monotonic()
    command = [sys.executable, "-m", "benchmarks", "--child", name, *(["--quick"] if quick else [])]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",  # its progress lines as they are printed, not when a pipe's buffer fills
    }
    child = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, bufsize=1, start_new_session=True
    )
    lines: list[str] = []

    def echo() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.rstrip("\n"))
            if not line.startswith((RESULT_MARK, SKIP_MARK)):
                print(f"   {line}", end="", file=sys.stderr, flush=True)

    reader = threading.Thread(target=echo, daemon=True)
    reader.start()
    returncode: int | None
    try:
        returncode = child.wait(timeout_s)
    except subprocess.TimeoutExpired:
        returncode = None
        stop_child(child)
    except KeyboardInterrupt:
        stop_child(child)
        raise
    reader.join(5)
    return read_outcome(returncode, lines, time.monotonic() - started, timeout_s)


def summary_row(benchmark: Benchmark, outcome: Outcome | None, skipped_why: str | None = None) -> str:
    """One line of the summary table: seconds taken against the budget, and ok or why not."""
    if outcome is None:
        return f"| `{benchmark.name}` | | {benchmark.budget_s:.0f} | {skipped_why} |"
    return f"| `{benchmark.name}` | {outcome.seconds:.0f} | {benchmark.budget_s:.0f} | {outcome.problem or 'ok'} |"


def in_running_order(names: list[str], found: dict[str, Benchmark]) -> list[str]:
    """The shortest budgets first (then by name), so that a run whose budget runs out on a loaded machine loses
    the longest benchmarks rather than the quick ones behind them."""
    return sorted(names, key=lambda name: (found[name].budget_s, name))


def section(
    started_at: str, loads: tuple[str, str], parts: list[str], summary: list[str], *, quick: bool, budget_s: float
) -> str:
    lines = [
        BEGIN,
        "",
        f"## Latest run of every benchmark ({'quick' if quick else 'full'})",
        "",
        f"Run {started_at} by `python -m benchmarks{' --quick' if quick else ''}` (a budget of {budget_s:.0f} s) "
        f"on: {machine()}.",
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
    started = time.monotonic()
    deadline = started + args.budget_s
    parts: list[str] = []
    summary = ["| benchmark | seconds | budget s | result |", "|---|---:|---:|---|"]
    wanted = in_running_order(wanted, found)
    for index, name in enumerate(wanted, 1):
        benchmark = found[name]
        if not benchmark.runnable:
            print(f"== {name}: not run, it has no run(quick)", file=sys.stderr, flush=True)
            summary.append(
                summary_row(benchmark, None, "not run: it has no `run(quick)` yet (run it alone, see below)")
            )
            continue
        timeout = time_allowed(benchmark.budget_s, deadline - time.monotonic())
        if timeout < 10:
            print(f"== {name}: not run, the run's budget is spent", file=sys.stderr, flush=True)
            summary.append(summary_row(benchmark, None, f"not run: the {args.budget_s:.0f} s budget was spent"))
            continue
        print(
            f"== {name} ({index} of {len(wanted)}; at most {timeout:.0f} s; "
            f"{time.monotonic() - started:.0f} s into the run)",
            file=sys.stderr,
            flush=True,
        )
        outcome = run_benchmark(name, args.quick, timeout)
        print(f"== {name}: {outcome.problem or 'ok'} after {outcome.seconds:.0f} s", file=sys.stderr, flush=True)
        summary.append(summary_row(benchmark, outcome))
        parts.extend(outcome.tables)
    summary.append(f"| all | {time.monotonic() - started:.0f} | {args.budget_s:.0f} | |")
    text = section(started_at, (load_before, load()), parts, summary, quick=args.quick, budget_s=args.budget_s)
    if args.no_write:
        print(text)
    else:
        write_readme(text)
        print(text)
        print(f"\nwritten to {README.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
