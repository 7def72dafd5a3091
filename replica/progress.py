"""Progress lines on stderr: a tqdm bar with its total known up front, or, for waits of unknown
length (a cold compile, one vectorized solve), a line that counts the seconds.

When a line is shown (:func:`enabled`):

* never on stdout (``--json`` documents stay clean), always on stderr;
* ``REPLICA_PROGRESS=1`` shows it, ``REPLICA_PROGRESS=0`` hides it; otherwise it is shown when
  stderr is a terminal (not in pipes, logs or tests);
* a command's ``--quiet`` (``quiet=True``) hides it.

Lines are transient (``leave=False``): they vanish when the work ends.  Other modules (the
code generator's "deriving ... (first run)", the CLI) call :func:`bar` and :func:`working`.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading

from tqdm import tqdm

__all__ = ["enabled", "bar", "working", "ENV"]

#: environment variable: "1" always show progress lines, "0" never
ENV = "REPLICA_PROGRESS"

#: seconds between refreshes of a :func:`working` line
_TICK = 0.5


def enabled(quiet: bool = False) -> bool:
    """Whether progress lines are shown (see the module's docstring)."""
    if quiet:
        return False
    flag = os.environ.get(ENV, "").strip()
    if flag in ("0", "1"):
        return flag == "1"
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):       # a closed or replaced stderr
        return False


def bar(total: int, desc: str, *, unit: str = "task", show: bool | None = None):
    """A tqdm bar of ``total`` steps on stderr, or None when progress is off (``show``:
    force on or off; default :func:`enabled`).  The total is fixed: work that turns up later
    gets a bar of its own."""
    if not (enabled() if show is None else show):
        return None
    return tqdm(total=int(total), desc=desc, unit=unit, leave=False, dynamic_ncols=True, file=sys.stderr)


@contextlib.contextmanager
def working(desc: str, *, show: bool | None = None):
    """A line ``desc: 12s`` on stderr, refreshed every half second while the block runs (work
    whose length is not known: a cold compile, one vectorized solve)."""
    if not (enabled() if show is None else show):
        yield
        return
    line = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", leave=False, file=sys.stderr)
    stop = threading.Event()

    def tick():
        while not stop.wait(_TICK):
            line.refresh()

    t = threading.Thread(target=tick, name="replica-progress", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()
        line.close()
