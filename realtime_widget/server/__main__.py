"""Entry point: ``python -m realtime_widget.server --help``."""

from realtime_widget.server.cli import main

main()
