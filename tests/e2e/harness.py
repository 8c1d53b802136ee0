"""Real services for the end-to-end tests: JupyterLab, Debian's Chromium driven by Playwright, a kernel client.

Each is started once per test run and stopped by the PID it was started with. The WebRTC tests must run in a
network namespace that has only ``lo`` (see ``scripts/in-loopback-netns``), so no packet can leave the machine.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

import httpx

from realtime_widget.endpoint import LOCAL_SERVER_KEY_ENV, LOCAL_SERVER_URL_ENV
from realtime_widget.server.launcher import LocalServer

T = TypeVar("T")

CHROMIUM = os.environ.get("REALTIME_WIDGET_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def only_loopback_interfaces() -> bool:
    """True inside a network namespace whose only interface is ``lo``."""
    # Asks the kernel (not /sys, which still shows the namespace it was mounted in).
    return [name for _index, name in socket.if_nameindex()] == ["lo"]


_REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_group(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Ends a process we started (and its children, which share its group), politely first."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class JupyterLab:
    """A JupyterLab server with its own config, runtime and settings folders.

    ``stacks_dir``: where each of its kernels writes the stacks of all its threads on SIGUSR1
    (:func:`dump_kernel_stacks`), one ``kernel-<pid>.txt`` a kernel."""

    url: str
    token: str
    root_dir: Path
    runtime_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    stacks_dir: Path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"token {self.token}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def kernel_client(self, notebook_name: str) -> KernelClient:
        """A second client attached to the live kernel behind an open notebook."""
        for session in self.api("GET", "/api/sessions").json():
            if session["path"].endswith(notebook_name):
                return KernelClient.attach(self.runtime_dir / f"kernel-{session['kernel']['id']}.json")
        raise LookupError(f"no kernel session for {notebook_name}")


def kernel_env(local_server: LocalServer) -> dict[str, str]:
    """The environment of a notebook server under test: no OpenAI key, and every kernel's widgets use the run's
    shared local server instead of starting their own."""
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
    env[LOCAL_SERVER_URL_ENV] = local_server.base_url
    env[LOCAL_SERVER_KEY_ENV] = local_server.api_key
    return env


# The front end's own options: the app object exposed as window.jupyterapp (to run cells), no update checks.
_APP_OPTIONS = {
    "jupyterlab": [
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
    ],
    "notebook": ["--JupyterNotebookApp.expose_app_in_browser=True"],
}


def start_jupyterlab(
    base: Path, notebooks: Path, env: dict[str, str], app: str = "jupyterlab", extra_args: tuple[str, ...] = ()
) -> JupyterLab:
    """Starts JupyterLab on 127.0.0.1 serving a copy of ``notebooks``; waits until it answers.

    ``app="notebook"`` starts Jupyter Notebook 7 instead (the same server, JupyterLab's components, one document
    per page)."""
    root = base / "root"
    shutil.copytree(notebooks, root)
    dirs = {name: base / name for name in ("config", "runtime", "settings", "workspaces", "ipython", "kernel-stacks")}
    for path in dirs.values():
        path.mkdir(parents=True)
    # The server extension the package installs (it keeps keys out of the server's log), as an install enables it.
    shutil.copytree(_REPO / "jupyter-config", dirs["config"], dirs_exist_ok=True)
    # Widget state is saved into notebooks so tests can check no secret ends up there.
    settings = dirs["settings"]
    (settings / "@jupyter-widgets" / "jupyterlab-manager").mkdir(parents=True)
    (settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"saveState": True})
    )
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Every kernel runs this first (an IPython startup file): a hung kernel can then be asked for its stacks.
    startup = dirs["ipython"] / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-stacks-on-sigusr1.py").write_text(_STACKS_ON_SIGUSR1.format(folder=str(dirs["kernel-stacks"])))
    port = free_port()
    token = secrets.token_hex(16)
    full_env = {
        **env,
        "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
    }
    log_path = base / f"{app}.log"
    command = [
        sys.executable,
        "-m",
        app,
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *_APP_OPTIONS[app],
        *extra_args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, root, dirs["runtime"], process, log_path, dirs["kernel-stacks"])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited early:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if lab.api("GET", "/api/status").status_code == 200:
                    return lab
            time.sleep(0.2)
        raise TimeoutError(f"{app} did not start:\n{log_path.read_text()[-3000:]}")
    except BaseException:
        # Also when the wait itself is cut short (a test's time limit, Ctrl-C): no fixture owns the server yet.
        stop_process_group(process)
        raise


# faulthandler writes from its C signal handler, so the stacks come even when every thread of the kernel is stuck
# (the GIL held, the event loop blocked). Run in the kernel's namespace, so it leaves no names behind.
_STACKS_ON_SIGUSR1 = """\
def _stacks_on_sigusr1():
    import faulthandler, os, signal
    out = open(os.path.join({folder!r}, f"kernel-{{os.getpid()}}.txt"), "a", buffering=1)
    faulthandler.register(signal.SIGUSR1, file=out, all_threads=True)
_stacks_on_sigusr1()
del _stacks_on_sigusr1
"""


def dump_kernel_stacks(lab: JupyterLab, out: TextIO, timeout: float = 10) -> None:
    """Asks each live kernel of ``lab`` for the stacks of all its threads (SIGUSR1, see :data:`_STACKS_ON_SIGUSR1`)
    and writes them to ``out``, a kernel after another, each headed by its command line (its connection file names
    its kernel id)."""
    asked: dict[Path, tuple[int, str]] = {}
    for path in sorted(lab.stacks_dir.glob("kernel-*.txt")):
        pid = int(path.stem.removeprefix("kernel-"))
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "ipykernel" in command:  # still this kernel, not a pid reused since it ended
                asked[path] = (path.stat().st_size, command)
                os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while any(path.stat().st_size == size for path, (size, _) in asked.items()) and time.monotonic() < deadline:
        time.sleep(0.1)  # faulthandler writes at once; this only waits for the kernel to be scheduled
    for path, (_, command) in asked.items():
        out.write(f"\n-- {path.stem}: {command}\n(stacks written earlier, if any, then now)\n")
        out.write(path.read_text(errors="replace"))
    if not asked:
        out.write("no live kernel to ask\n")


def diagnose_jupyterlab(lab: JupyterLab) -> Callable[[TextIO, Path], None]:
    """A timeout report's section for ``lab`` (see tests/timeouts.py): its kernels' stacks, and its whole log
    copied beside the report."""

    def diagnose(out: TextIO, folder: Path) -> None:
        dump_kernel_stacks(lab, out)
        log = folder / f"{out.name.rsplit('/', 1)[-1].removesuffix('.txt')}-{lab.log_path.name}"
        shutil.copyfile(lab.log_path, log)
        out.write(f"\nthe server's whole log: {log}; its end:\n{lab.log_path.read_text(errors='replace')[-4000:]}\n")

    return diagnose


def stop_jupyterlab(lab: JupyterLab) -> None:
    with contextlib.suppress(httpx.HTTPError):
        lab.api("POST", "/api/shutdown")
    with contextlib.suppress(subprocess.TimeoutExpired):
        lab.process.wait(10)
    stop_process_group(lab.process)


#: For ``wait_until(explain=...)``: the widget's last events, deltas left out, as (direction, type, response id).
RECENT_EVENTS = (
    "[(e.direction, e.type, e.response_id) for e in widget.record.events.itertuples() "
    "if not e.type.endswith('.delta')][-80:]"
)


class KernelClient:
    """Runs code in a live kernel and reads back values, as a second client beside the browser."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def attach(cls, connection_file: Path) -> KernelClient:
        from jupyter_client import BlockingKernelClient

        client = BlockingKernelClient()
        client.load_connection_file(str(connection_file))
        client.start_channels()
        client.wait_for_ready(timeout=30)
        return cls(client)

    def run(self, code: str, timeout: float = 30) -> None:
        """Executes ``code``; raises with the kernel's traceback when it fails."""
        reply = self._client.execute_interactive(code, timeout=timeout, output_hook=lambda _msg: None)
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError("\n".join(content.get("traceback", [])) or content.get("evalue", "kernel error"))

    def start(self, code: str) -> str:
        """Sends ``code`` to run and returns at once, while the kernel is busy with it; :meth:`finish` waits for it.

        Until then, :meth:`run`, :meth:`value` and :meth:`wait_until` queue behind it."""
        return str(self._client.execute(code))

    def finish(self, msg_id: str, timeout: float = 30) -> None:
        """Waits for the code :meth:`start` sent (its ``msg_id``) to end; raises with the kernel's traceback when it
        failed."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the kernel did not finish {msg_id} within {timeout} s")
            try:
                reply = self._client.get_shell_msg(timeout=remaining)
            except queue.Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError("\n".join(content.get("traceback", [])) or content.get("evalue", "kernel error"))

    def value(self, expression: str, timeout: float = 30) -> Any:
        """Evaluates ``expression`` in the kernel and returns it through JSON (numpy scalars become numbers,
        timestamps and other objects their ``str``)."""
        as_json = (
            f"__import__('json').dumps(({expression}), default=lambda o: o.item() if hasattr(o, 'item') else str(o))"
        )
        reply = self._client.execute_interactive(
            "", user_expressions={"r": as_json}, timeout=timeout, output_hook=lambda _msg: None
        )
        result = reply["content"]["user_expressions"]["r"]
        if result["status"] != "ok":
            raise RuntimeError(f"{expression!r} failed: {result.get('ename')}: {result.get('evalue')}")
        return json.loads(ast.literal_eval(result["data"]["text/plain"]))

    def wait_until(
        self, expression: str, timeout: float = 30, interval: float = 0.25, explain: str | None = None
    ) -> Any:
        """Polls until ``expression`` evaluates truthy in the kernel, and returns its value. On a timeout the error
        also gives the value of ``explain`` (an expression saying what happened instead), when there is one."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.value(expression)
            if last:
                return last
            time.sleep(interval)
        instead = ""
        if explain is not None:
            try:
                instead = f"\n{explain} = {self.value(explain)!r}"
            except Exception as exc:  # the explanation must not hide the timeout
                instead = f"\n{explain} failed: {exc}"
        raise TimeoutError(f"{expression!r} stayed falsy for {timeout} s (last: {last!r}){instead}")

    def close(self) -> None:
        self._client.stop_channels()


@contextlib.contextmanager
def chromium_context(
    user_data_dir: Path, extra_args: list[str] | None = None, *, base_args: list[str] | None = None
) -> Iterator[Any]:
    """A fresh persistent Chromium context (Debian's build) with fake media devices.

    ``base_args`` replaces :data:`CHROMIUM_ARGS` (e.g. without ``--use-fake-ui-for-media-stream``, so the
    microphone is not granted by itself)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=CHROMIUM,
            headless=True,
            chromium_sandbox=False,
            args=[*(CHROMIUM_ARGS if base_args is None else base_args), *(extra_args or [])],
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def run_on_own_loop(coroutine: Coroutine[Any, Any, T], name: str = "asyncio") -> T:
    """Runs ``coroutine`` to the end on a thread and event loop of its own: once the session's browser has started,
    Playwright's sync API keeps a loop running on the test's thread, where ``asyncio.run`` refuses to start."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
