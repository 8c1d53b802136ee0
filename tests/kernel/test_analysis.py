"""analysis: the latency table's numbers and the plots' basic shape (drawn with the Agg backend)."""

from __future__ import annotations

import pandas as pd
import pytest

from realtime_widget.analysis import describe_latency, plot_latency, plot_network, plot_timeline
from realtime_widget.record import SessionRecord
from realtime_widget.sample import sample_session


@pytest.fixture(scope="module")
def record() -> SessionRecord:
    return sample_session(8)


def test_describe_latency_summarises_each_measure(record: SessionRecord) -> None:
    table = describe_latency(record.turns)
    assert list(table.index) == ["latency_ms", "voice_to_voice_ms", "response_duration_ms"]
    assert list(table.columns) == ["count", "mean", "min", "p50", "p90", "p95", "max"]
    latency = record.turns["latency_ms"]
    assert table.loc["latency_ms", "count"] == 8
    assert table.loc["latency_ms", "p50"] == pytest.approx(latency.median())
    assert table.loc["latency_ms", "max"] == pytest.approx(latency.max())
    assert str(table["count"].dtype) == "Int64"


def test_describe_latency_by_session() -> None:
    turns = pd.DataFrame(
        {
            "session_id": ["a", "a", "b"],
            "latency_ms": [100.0, 300.0, 50.0],
            "voice_to_voice_ms": [float("nan")] * 3,
            "response_duration_ms": [1.0, 2.0, 3.0],
        }
    )
    table = describe_latency(turns, by="session_id")
    assert table.loc[("a", "latency_ms"), "p50"] == 200.0
    assert table.loc[("b", "latency_ms"), "count"] == 1
    assert table.loc[("a", "voice_to_voice_ms"), "count"] == 0


def test_plots_draw_on_given_axes(record: SessionRecord) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1)
    try:
        assert plot_latency(record.turns, axes[0]) is axes[0]
        assert len(axes[0].lines) == 2
        assert plot_network(record.stats, axes[1]) is axes[1]
        assert [line.get_label() for line in axes[1].lines] == ["round-trip time", "jitter"]
        assert plot_timeline(record.timeline, axes[2]) is axes[2]
        labels = [tick.get_text() for tick in axes[2].get_yticklabels()]
        assert "connected" in labels
        assert "key_minted" in labels
    finally:
        plt.close(fig)


def test_a_plot_makes_its_own_figure_when_not_given_axes(record: SessionRecord) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot_latency(record.turns)
    try:
        assert ax.get_title() == "Latency per turn"
    finally:
        plt.close("all")
