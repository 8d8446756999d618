"""Runs a command-line entry point so that errors are one line, not a traceback."""
from __future__ import annotations

import os
import signal
import sys
from typing import Callable

from segkit.errors import SegkitError

# A message longer than this is cut (a library may put a whole config in it).
LONGEST = 500
_stopped_by: int | None = None


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C (SIGINT) or a launcher's SIGTERM: remember it, stop as Ctrl-C does."""
    global _stopped_by
    _stopped_by = signum
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_cli(main: Callable[[], int | None], prog: str | None = None) -> None:
    """Calls ``main`` and exits with its status.

    Any exception is printed as ``<prog>: error: <message>`` on one line (a
    :class:`~segkit.errors.SegkitError` without its type's name, at most
    :data:`LONGEST` characters) and exits with status 1; set
    ``SEGKIT_DEBUG=1`` to get the full traceback. Ctrl-C, and the SIGTERM a
    launcher (torchrun, a scheduler) sends to stop a job, print
    ``<prog>: interrupted`` and exit with 130, also when a library turned the
    interrupt into another exception on its way up.
    """
    global _stopped_by
    prog = prog or os.path.basename(sys.argv[0])
    _stopped_by = None
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = main()
    except KeyboardInterrupt:
        _interrupted(prog)
    except Exception as e:  # noqa: BLE001 - the point is to catch everything
        if _stopped_by is not None:
            _interrupted(prog)  # e.g. mmengine's config formatting turns it into a SyntaxError
        if os.environ.get('SEGKIT_DEBUG'):
            raise
        message = ' '.join(str(e).split()) or type(e).__name__
        if len(message) > LONGEST:
            message = message[:LONGEST - 100] + ' ... [cut]'
        # segkit's own errors say what is wrong; others are named by their type
        kind = '' if isinstance(e, SegkitError) else f'{type(e).__name__}: '
        print(f'{prog}: error: {kind}{message} (SEGKIT_DEBUG=1 shows the traceback)',
              file=sys.stderr)
        sys.exit(1)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    sys.exit(status or 0)


def _interrupted(prog: str) -> None:
    print(f'{prog}: interrupted', file=sys.stderr)
    sys.exit(130)
