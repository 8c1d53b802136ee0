"""Saving and loading sessions: exact round trips, many sessions at once, and the same files through DuckDB."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from realtime_widget.record import SessionRecord, load_sessions, persist
from realtime_widget.record.persist import VIEWS, SessionLoadError
from realtime_widget.sample import batches, sample_session, synthetic_items


@pytest.fixture(scope="module")
def sessions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sessions")
    sample_session(8, seed=0).save(root / "a")
    sample_session(5, seed=1).save(root / "b")
    (root / "not-a-session").mkdir()
    return root


def test_a_saved_session_loads_back_exactly(tmp_path: Path) -> None:
    record = sample_session(8)
    record.model = "gpt-realtime"
    record.add_items([{"k": "event", "t": 1.7e12, "dir": "server", "event": None, "raw": 'half a "message'}])
    record.save(tmp_path / "s")
    loaded = SessionRecord.load(tmp_path / "s")
    for name in VIEWS:
        pd.testing.assert_frame_equal(getattr(record, name), getattr(loaded, name), check_exact=True, obj=name)
    assert loaded.session_id == record.session_id
    assert loaded.summary() == record.summary()
    assert (loaded.clock_offset_ms, loaded.clock_rtt_ms) == (record.clock_offset_ms, record.clock_rtt_ms)


def test_the_folder_layout(tmp_path: Path) -> None:
    folder = sample_session(3).save(tmp_path / "s")
    names = {p.name for p in folder.iterdir()}
    assert names == {"meta.json", "events.jsonl", *(f"{v}.parquet" for v in VIEWS)}
    first = json.loads((folder / "events.jsonl").read_text().splitlines()[0])
    assert set(first) == {"k", "t", "dir", "event"}
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["format"] == 1
    assert "gpt-realtime" in meta["prices"]


def test_edited_prices_are_saved_with_the_session(tmp_path: Path) -> None:
    record = sample_session(3)
    record.prices.clear()
    record.save(tmp_path / "s")
    assert SessionRecord.load(tmp_path / "s").usage["cost_usd"].isna().all()


def test_load_sessions_concatenates_views_with_a_session_id(sessions_dir: Path) -> None:
    sessions = load_sessions(sessions_dir)
    assert list(sessions.sessions) == ["sample-0", "sample-1"]
    turns = sessions.turns
    assert turns.columns[0] == "session_id"
    assert str(turns["session_id"].dtype) == "str"
    assert turns.groupby("session_id").size().to_dict() == {"sample-0": 8, "sample-1": 5}
    assert len(sessions.events) == sum(len(r.events) for r in sessions.sessions.values())
    single = sessions.sessions["sample-1"].turns
    pd.testing.assert_frame_equal(
        turns[turns["session_id"] == "sample-1"].drop(columns="session_id").reset_index(drop=True), single
    )


def test_a_session_set_summary_has_one_row_per_session(sessions_dir: Path) -> None:
    summary = load_sessions(sessions_dir).summary()
    assert summary["session_id"].tolist() == ["sample-0", "sample-1"]
    assert summary["turns"].tolist() == [8, 5]
    assert str(summary["median_latency_ms"].dtype) == "float64"
    assert (summary["cost_usd"] > 0).all()


def test_an_empty_folder_gives_empty_views_with_the_right_columns(tmp_path: Path) -> None:
    sessions = load_sessions(tmp_path)
    assert len(sessions) == 0
    assert list(sessions.usage.columns[:2]) == ["session_id", "time"]


def test_duckdb_reads_the_saved_folders_as_one_table(sessions_dir: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"""
        select session_id, count(*) as turns, median(latency_ms) as median_latency_ms
        from '{sessions_dir.as_posix()}/*/turns.parquet'
        group by session_id order by session_id
        """
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("sample-0", 8), ("sample-1", 5)]
    expected = load_sessions(sessions_dir).turns.groupby("session_id")["latency_ms"].median()
    assert [r[2] for r in rows] == pytest.approx(expected.tolist())
    [(cost,)] = duckdb.sql(f"select sum(cost_usd) from '{sessions_dir.as_posix()}/*/usage.parquet'").fetchall()
    assert cost == pytest.approx(load_sessions(sessions_dir).usage["cost_usd"].sum())


def test_a_save_that_fails_midway_leaves_the_last_good_save_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = sample_session(3, seed=0)
    folder = good.save(tmp_path / "s")
    calls = {"n": 0}
    real_to_parquet = pd.DataFrame.to_parquet

    def full_disk(self: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_to_parquet(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(OSError, match="No space left"):
        sample_session(5, seed=1).save(folder)
    monkeypatch.undo()
    loaded = SessionRecord.load(folder)
    assert loaded.session_id == good.session_id
    pd.testing.assert_frame_equal(loaded.events, good.events)
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # nothing half-written is left beside it


def test_a_save_replaces_the_previous_one_whole(tmp_path: Path) -> None:
    folder = sample_session(3, seed=0).save(tmp_path / "s")
    second = sample_session(2, seed=7)
    second.save(folder)
    assert SessionRecord.load(folder).session_id == second.session_id
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


@pytest.mark.parametrize("swap_before", ["events.jsonl", "stats.parquet", "voice_latency.parquet"])
def test_a_load_during_a_swap_reads_one_whole_save_never_a_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap_before: str
) -> None:
    # An autosave can swap a new folder in while a load is reading the old one; before loads read through one
    # folder handle, that mixed two saves (or failed on a half-read Parquet file).
    first, second = sample_session(6, seed=0), sample_session(3, seed=9)
    folder = first.save(tmp_path / "s")
    real_open = persist._SaveFolder.open
    swapped = []

    def open_then_swap(self: persist._SaveFolder, name: str, mode: Any) -> Any:
        if name == swap_before and not swapped:
            swapped.append(name)
            second.save(folder)  # the old folder is renamed aside and removed under the load
        return real_open(self, name, mode)

    monkeypatch.setattr(persist._SaveFolder, "open", open_then_swap)
    loaded = SessionRecord.load(folder)
    assert swapped
    expected = second  # the save read first was removed midway, so the load started again on the new one
    assert loaded.session_id == expected.session_id
    for name in VIEWS:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(expected, name), obj=name)


def test_a_load_keeps_reading_the_save_it_began_with_while_that_one_still_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = sample_session(6, seed=0), sample_session(3, seed=9)
    folder = first.save(tmp_path / "s")
    real_open = persist._SaveFolder.open
    aside = tmp_path / ".s.old-kept"

    def open_then_rename(self: persist._SaveFolder, name: str, mode: Any) -> Any:
        if name == "stats.parquet" and not aside.exists():
            folder.rename(aside)  # a save caught between its two renames: the old one moved, still whole
            second.save(folder)
        return real_open(self, name, mode)

    monkeypatch.setattr(persist._SaveFolder, "open", open_then_rename)
    loaded = SessionRecord.load(folder)
    assert loaded.session_id == first.session_id
    pd.testing.assert_frame_equal(loaded.stats, first.stats)


@pytest.mark.parametrize("where", ["", ".", ".."])
def test_save_refuses_a_path_that_is_not_a_folder_of_its_own(where: str) -> None:
    with pytest.raises(ValueError, match="folder of its own"):
        SessionRecord().save(where)


def _broken_sessions(root: Path) -> dict[str, Path]:
    folders = {
        name: sample_session(2, seed=n).save(root / name) for n, name in enumerate(["good", "cut", "foreign", "alien"])
    }
    events = folders["cut"] / "events.jsonl"
    events.write_text(events.read_text()[: len(events.read_text()) // 2])  # cut short mid-line
    pd.DataFrame({"x": [1, 2]}).to_parquet(folders["foreign"] / "stats.parquet")
    (folders["alien"] / "meta.json").write_text('{"hello": "world"}')
    return folders


def test_load_sessions_loads_every_good_session_and_warns_once_per_bad_one(tmp_path: Path) -> None:
    _broken_sessions(tmp_path)
    with pytest.warns(UserWarning, match="skipped a saved session") as caught:
        sessions = load_sessions(tmp_path)
    assert len(sessions) == 1
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 3
    assert any("alien" in m and "meta.json" in m for m in messages)
    assert any("cut" in m and "events.jsonl, line" in m for m in messages)
    assert any("foreign" in m and "stats.parquet" in m and "lacks" in m for m in messages)
    with pytest.raises(SessionLoadError, match=r"meta\.json"):
        load_sessions(tmp_path, errors="raise")


def test_a_foreign_view_fails_at_load_naming_the_file(tmp_path: Path) -> None:
    folder = sample_session(2).save(tmp_path / "s")
    pd.DataFrame({"x": [1]}).to_parquet(folder / "stats.parquet")
    with pytest.raises(SessionLoadError, match=r"stats\.parquet.*lacks"):
        SessionRecord.load(folder)


def test_copied_sessions_with_the_same_id_are_kept_apart(tmp_path: Path) -> None:
    folder = sample_session(2).save(tmp_path / "a")
    shutil.copytree(folder, tmp_path / "b")
    sessions = load_sessions(tmp_path)
    assert len(sessions) == 2
    assert sorted(sessions.sessions) == sorted(
        [sessions.summary().session_id.iloc[0], f"{sessions.summary().session_id.iloc[0]}@b"]
    )


def test_a_record_can_be_saved_and_read_from_another_thread_while_it_grows(tmp_path: Path) -> None:
    items = synthetic_items(40, seed=5, words_scale=3)
    record = SessionRecord("busy")
    stop = threading.Event()
    failures: list[BaseException] = []

    def append() -> None:
        try:
            for message in batches(items, size=20):
                record.add_items(message["items"])
        except BaseException as exc:
            failures.append(exc)
        finally:
            stop.set()

    writer = threading.Thread(target=append)
    writer.start()
    saves = 0
    while not stop.is_set() or saves == 0:
        record.save(tmp_path / "s")
        saved = SessionRecord.load(tmp_path / "s")
        assert len(saved.events) == len(saved)  # loads whole: never half an append
        assert len(record.turns) >= 0
        saves += 1
    writer.join()
    assert failures == []
    record.save(tmp_path / "s")
    assert len(SessionRecord.load(tmp_path / "s")) == len(record)
