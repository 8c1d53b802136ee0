"""Session-wide real services for the browser and notebook tests: one JupyterLab and one Chromium per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from realtime_widget.server.launcher import LocalServer
from tests import timeouts

from .harness import (
    JupyterLab,
    chromium_context,
    diagnose_jupyterlab,
    kernel_env,
    only_loopback_interfaces,
    start_jupyterlab,
    stop_jupyterlab,
)
from .lab_page import LabPage
from .speech import write_mic_wav

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

#: The time limit of a browser test, fixtures included (the first test of a worker also starts JupyterLab, Chromium
#: and the local server). The slowest takes 35 s in a full run; far longer on a loaded machine is still a pass,
#: while a hang fails with the stacks of the test and of JupyterLab's kernels, and its log, in test-artifacts/
#: (tests/timeouts.py). The same as the unit tests' today (pyproject.toml), kept apart so either can change.
E2E_TIMEOUT_S = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in item.keywords and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))
    # WebRTC in Chromium uses every interface it can see; only a lo-only namespace keeps traffic on loopback.
    if only_loopback_interfaces():
        return
    skip = pytest.mark.skip(reason="browser tests run only inside a lo-only network namespace (scripts/test)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The run's one local server, in strict mode: it checks every event it sends against the SDK's models."""
    server = LocalServer.start(strict=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, local_server: LocalServer) -> Iterator[JupyterLab]:
    server = start_jupyterlab(tmp_path_factory.mktemp("jupyterlab"), REPO / "notebooks", kernel_env(local_server))
    try:
        with timeouts.diagnosed("jupyterlab", diagnose_jupyterlab(server)):
            yield server
    finally:
        stop_jupyterlab(server)


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory, local_server: LocalServer) -> Iterator[JupyterLab]:
    """Jupyter Notebook 7 serving the same notebooks (started only by the tests that use it)."""
    env = kernel_env(local_server)
    server = start_jupyterlab(tmp_path_factory.mktemp("notebook7"), REPO / "notebooks", env, app="notebook")
    try:
        with timeouts.diagnosed("jupyter notebook 7", diagnose_jupyterlab(server)):
            yield server
    finally:
        stop_jupyterlab(server)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # A spoken phrase between silences instead of Chromium's default beeps, which the VAD would take for speech.
    mic = write_mic_wav(tmp_path_factory.mktemp("mic") / "mic.wav")
    args = [f"--use-file-for-fake-audio-capture={mic}"]
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), args) as context:
        yield context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def lab_page(
    request: pytest.FixtureRequest, browser: Any, lab: JupyterLab, local_server: LocalServer, artifacts: Path
) -> Iterator[LabPage]:
    page = browser.new_page()
    lab_page = LabPage(page, lab)
    try:
        yield lab_page
    finally:
        if request.node.stash.get(_FAILED, False):
            # What the page looked like and said when the test failed, for the CI log and the artifacts folder.
            name = request.node.name
            page.screenshot(path=str(artifacts / f"failed-{name}.png"), full_page=True)
            (artifacts / f"failed-{name}.console.txt").write_text("\n".join(lab_page.console))
            print(f"\n--- browser console of {name} (last 40 lines) ---")
            print("\n".join(lab_page.console[-40:]))
            print(f"--- jupyterlab log (last 3000 chars) ---\n{lab.log_path.read_text()[-3000:]}")
            print(f"--- local server log (last 60 lines) ---\n{local_server.log_tail()}")
        page.close()


@pytest.fixture(autouse=True)
def server_sent_only_valid_events(local_server: LocalServer) -> Iterator[None]:
    """After each test: every event the shared server sent validated against ``openai.types.realtime``."""
    yield
    assert local_server.violations() == []
