"""``python -m realtime_widget.server``: run the local Realtime-compatible server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import secrets
import signal
import sys
import threading

from realtime_widget.server import KEY_ENV
from realtime_widget.server.http.app import RealtimeServer
from realtime_widget.server.session.responses import DEFAULT_GENERATION_SPEED, GenerationTiming


def _speed(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be above 0 (1 is real time)")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m realtime_widget.server",
        description="Run the local, offline, OpenAI Realtime-compatible server (WebRTC and WebSocket).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)")
    parser.add_argument(
        "--api-key",
        default=None,
        help=f"the standard key clients must present; else ${KEY_ENV}; else one is generated and printed",
    )
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="exit when stdin reaches end of file (the parent is gone)"
    )
    parser.add_argument("--strict", action="store_true", help="validate every server event and log failures")
    parser.add_argument(
        "--record-timing", action="store_true", help="keep outgoing audio frame times (for /_local/calls/ID/stats)"
    )
    parser.add_argument(
        "--max-session-s", type=float, default=3600.0, help="end sessions after this many seconds (API: 60 min)"
    )
    parser.add_argument(
        "--generation-speed",
        type=_speed,
        default=DEFAULT_GENERATION_SPEED,
        help=f"seconds of reply audio generated per second (default {DEFAULT_GENERATION_SPEED:g}; the real API "
        "generates faster than real time, so response.done comes before the audio has been heard)",
    )
    parser.add_argument(
        "--pace-generation",
        action="store_true",
        help="generate replies only as fast as WebRTC plays them (response.done as the audio ends)",
    )
    parser.add_argument("--log-level", default="WARNING", help="Python logging level (default WARNING)")
    return parser.parse_args(argv)


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # A blocking read in a daemon thread: portable, and EOF arrives as soon as the parent's end of the pipe closes.
    def wait_for_eof() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="exit-with-parent", daemon=True).start()


async def _freeze_startup_objects(server: RealtimeServer) -> None:
    """Once the voice model has loaded, move everything allocated so far out of the garbage collector's sight.

    Start-up leaves a large heap that lives as long as the process (the API's event types, the voice model). A
    full collection walked all of it, stopping the event loop for 100-300 ms mid-call on a loaded machine: every
    call's audio stalled. Frozen, a full collection walks only what calls have allocated since.
    """
    with contextlib.suppress(Exception):  # a model that failed to load is reported to the first call
        await server.get_deps()
    gc.collect()
    gc.freeze()


async def serve(args: argparse.Namespace) -> None:
    """Start the server, print the ready line, and run until a signal or (with ``--exit-with-parent``) stdin EOF."""
    api_key = args.api_key or os.environ.get(KEY_ENV)
    if not api_key:
        api_key = "sk-local-" + secrets.token_urlsafe(24)
        print(f"API key: {api_key}", flush=True)
    server = RealtimeServer(
        api_key,
        host=args.host,
        port=args.port,
        strict=args.strict,
        max_session_s=args.max_session_s,
        record_timing=args.record_timing,
        timing=GenerationTiming(args.generation_speed, paced_to_playback=args.pace_generation),
    )
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_with_parent:
        _watch_stdin(loop, stop)
    print(f"Realtime server ready at {server.base_url}", flush=True)
    freezing = asyncio.ensure_future(_freeze_startup_objects(server))
    try:
        await stop.wait()
    finally:
        freezing.cancel()
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    asyncio.run(serve(args))
