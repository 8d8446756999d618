"""Runs a command-line entry point so that errors are one line, not a traceback."""
from __future__ import annotations

import os
import sys
from typing import Callable

from segkit.errors import SegkitError


def run_cli(main: Callable[[], int | None], prog: str | None = None) -> None:
    """Calls ``main`` and exits with its status.

    Any exception is printed as ``<prog>: error: <message>`` on one line (a
    :class:`~segkit.errors.SegkitError` without its type's name) and
    exits with status 1; set ``SEGKIT_DEBUG=1`` to get the full traceback.
    """
    prog = prog or os.path.basename(sys.argv[0])
    try:
        status = main()
    except KeyboardInterrupt:
        print(f'{prog}: interrupted', file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - the point is to catch everything
        if os.environ.get('SEGKIT_DEBUG'):
            raise
        message = ' '.join(str(e).split()) or type(e).__name__
        # segkit's own errors say what is wrong; others are named by their type
        kind = '' if isinstance(e, SegkitError) else f'{type(e).__name__}: '
        print(f'{prog}: error: {kind}{message} (SEGKIT_DEBUG=1 shows the traceback)',
              file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)
