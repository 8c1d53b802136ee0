"""``python -m realtime_widget.evals``: see :mod:`realtime_widget.evals.cli`."""

import sys

from realtime_widget.evals.cli import main

sys.exit(main())
