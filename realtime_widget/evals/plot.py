"""A run's results as a figure: latency distributions and pass rates per variant."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from realtime_widget.evals.results import Results

__all__ = ["plot_results"]


def plot_results(results: Results, *, figsize: tuple[float, float] = (10.0, 4.0)) -> Any:
    """Left: each variant's turn latencies (a box over the points); right: pass rate with its confidence interval.
    Returns the matplotlib ``Figure``."""
    import matplotlib.pyplot as plt  # noqa: PLC0415  # optional (the analysis extra)

    summary = results.compare()
    names = list(summary["variant"])
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    latencies = [
        results.turns.loc[results.turns["variant"] == name, "latency_ms"].dropna().to_numpy() for name in names
    ]
    if any(len(values) for values in latencies):
        left.boxplot([v if len(v) else [float("nan")] for v in latencies], tick_labels=names, showfliers=False)
        for x, values in enumerate(latencies, 1):
            jitter = [x + 0.08 * ((i % 5) - 2) / 2 for i in range(len(values))]
            left.scatter(jitter, values, s=12, alpha=0.6, zorder=3)
    else:
        left.text(0.5, 0.5, "no latency measured", ha="center", va="center", transform=left.transAxes)
    left.set_title("Turn latency per variant")
    left.set_ylabel("ms (end of speech to first reply audio)")
    rates = summary["pass_rate"].to_numpy()
    errors = [rates - summary["pass_rate_low"].to_numpy(), summary["pass_rate_high"].to_numpy() - rates]
    right.bar(names, rates, yerr=errors, capsize=6, color="tab:green", alpha=0.8)
    right.set_ylim(0, 1.15)
    right.set_title("Pass rate (95% bootstrap CI)")
    right.set_ylabel("share of runs that passed")
    for x, (rate, runs) in enumerate(zip(rates, summary["runs"], strict=True)):
        high = float(summary["pass_rate_high"].iloc[x])
        right.text(x, (rate if math.isnan(high) else high) + 0.03, f"{rate:.0%} of {runs}", ha="center")
    plt.close(fig)  # returned for the notebook to show once, not drawn twice
    return fig
