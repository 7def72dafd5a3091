"""Progress lines on stderr: a tqdm bar with its total known up front, or, for waits of unknown
length (a cold compile, one vectorized solve), a line that counts the seconds.

When a line is shown (:func:`enabled`):

* never on stdout (``--json`` documents stay clean), always on stderr;
* ``REPLICA_PROGRESS=1`` shows it, ``REPLICA_PROGRESS=0`` hides it; otherwise it is shown when
  stderr is a terminal (not in pipes, logs or tests);
* a command's ``--quiet`` hides it (``quiet=True``, or everything inside :func:`silenced`).

Lines are transient (``leave=False``): they vanish when the work ends.  Every progress line of the
package goes through :func:`bar` and :func:`working`: the CLI's solves, the phase diagram's rows,
and the code generator's cold compile (``replica: deriving MODEL (first run; cached after)``,
:mod:`replica.codegen.compiled`).
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading

from tqdm import tqdm

__all__ = ["enabled", "silenced", "bar", "track", "working", "ENV"]

#: environment variable: "1" always show progress lines, "0" never
ENV = "REPLICA_PROGRESS"

#: seconds between refreshes of a :func:`working` line
_TICK = 0.5

#: set inside :func:`silenced` (a command's ``--quiet``)
_SILENT = contextvars.ContextVar("replica_progress_silent", default=False)


def enabled(quiet: bool = False) -> bool:
    """Whether progress lines are shown (see the module's docstring)."""
    if quiet or _SILENT.get():
        return False
    flag = os.environ.get(ENV, "").strip()
    if flag in ("0", "1"):
        return flag == "1"
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):       # a closed or replaced stderr
        return False


@contextlib.contextmanager
def silenced(quiet: bool = True):
    """No progress line inside the block (a command's ``--quiet``); ``quiet=False`` changes nothing."""
    token = _SILENT.set(_SILENT.get() or bool(quiet))
    try:
        yield
    finally:
        _SILENT.reset(token)


def bar(total: int, desc: str, *, unit: str = "task", show: bool | None = None):
    """A tqdm bar of ``total`` steps on stderr, or None when progress is off (``show``:
    force on or off; default :func:`enabled`).  The total is fixed: work that turns up later
    gets a bar of its own."""
    if not (enabled() if show is None else show):
        return None
    return tqdm(total=int(total), desc=desc, unit=unit, leave=False, dynamic_ncols=True, file=sys.stderr)


def track(items, desc: str, *, unit: str = "point", show: bool | None = None):
    """Iterate over ``items`` with a :func:`bar` of ``len(items)`` steps (same ``show`` rule)."""
    items = list(items)
    b = bar(len(items), desc, unit=unit, show=show)
    if b is None:
        yield from items
        return
    try:
        for x in items:
            yield x
            b.update(1)
    finally:
        b.close()


@contextlib.contextmanager
def working(desc: str, *, show: bool | None = None, delay: float = 0.0):
    """A line ``desc: 12s`` on stderr, refreshed every half second while the block runs (work
    whose length is not known: a cold compile, one vectorized solve).  With ``delay`` the line
    appears only once the block has run that many seconds (nothing for quick work)."""
    if not (enabled() if show is None else show):
        yield
        return
    line = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", leave=False, file=sys.stderr,
                delay=delay)
    stop = threading.Event()

    def tick():                 # update(0) redraws once the delay is over (tqdm's own rule)
        while not stop.wait(_TICK):
            line.update(0)

    t = threading.Thread(target=tick, name="replica-progress", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()
        line.close()
