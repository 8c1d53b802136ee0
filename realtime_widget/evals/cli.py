"""``python -m realtime_widget.evals cases.yaml --variants variants.yaml --out runs/``: run cases from a shell or CI.

Prints the results table and the comparison; exits 0 when every run passed, 1 when one failed (with each failure
and the transcript excerpt it looked at), 2 when the cases, variants or options are wrong (nothing ran).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from realtime_widget.errors import RealtimeWidgetError
from realtime_widget.evals.loading import CaseFileError, load_cases, load_variants
from realtime_widget.evals.results import Results

__all__ = ["main"]

EXIT_PASSED, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m realtime_widget.evals",
        description="Run scripted voice conversations against a Realtime agent and compare variants. Without "
        "OPENAI_API_KEY (or --api-key) the bundled local server answers.",
    )
    parser.add_argument("cases", help="a YAML or JSON file of cases")
    parser.add_argument("--variants", help="a YAML or JSON file: {name: {session option: value}}")
    parser.add_argument("--out", default="runs", help="where the run's folder is written (default: runs)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each variant x case (default: 1)")
    parser.add_argument("--concurrency", type=int, default=4, help="sessions at once (default: 4)")
    parser.add_argument("--transport", choices=("websocket", "webrtc"), default="websocket")
    parser.add_argument("--base-url", help="the Realtime API base URL (default: OpenAI, or the local server)")
    parser.add_argument("--no-progress", action="store_true", help="no progress line")
    return parser


def _report(results: Results) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 60):
        table = results.table.drop(columns=["failures", "session_id"]).to_string(index=False)
        columns = ["variant", "runs", "pass_rate", "latency_p50_ms", "latency_p90_ms", "cost_usd"]
        summary = results.compare()
        compared = summary[columns].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    notes = [f"{v}: {n}" for v, n in zip(summary["variant"], summary["note"], strict=True) if n]
    return "\n\n".join([table, compared, *(["\n".join(notes)] if notes else []), f"saved in {results.folder}"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    from realtime_widget.evals.runner import run_sync  # noqa: PLC0415  # loads the session (aiohttp) only to run

    try:
        cases = load_cases(args.cases)
        variants = load_variants(args.variants) if args.variants else None
        options = {"transport": args.transport}
        if args.base_url:
            options["base_url"] = args.base_url
        results = run_sync(
            cases,
            variants,
            repeats=args.repeats,
            concurrency=args.concurrency,
            out=args.out,
            progress=not args.no_progress,
            **options,
        )
    except (CaseFileError, ValueError, TypeError, RealtimeWidgetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(_report(results))
    verdict = results.passed
    if not verdict:
        print(f"\n{verdict!r}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_PASSED
