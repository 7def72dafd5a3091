"""Transition lines from the transitions located row by row.

Each row y of the diagram gives the transitions along x at that y, each located by root finding
(:func:`replica.solve.find_transitions`), so every point of a line is exact to the locator's
tolerance — no pixel edges.  A line is then followed between rows:

* :func:`refine_rows` — where a line moves by more than ``max_step`` grid cells between two
  rows, or appears / disappears between them (it ends, or leaves through the x range), a row is
  inserted half way and searched too; repeated ``depth`` times, this follows steep stretches and
  locates the ends of lines to (row spacing) / 2**depth;
* :func:`assemble` — the points of one kind (and branch, for spinodals) are joined row to row:
  in order of x when a row has as many points of that kind as there are open lines, else each
  point to the nearest end of an open line not farther than ``max_jump`` of the x range.

Any ``kind`` string becomes a line (``rs_instability`` and kinds added later included).
"""
from __future__ import annotations

import numpy as np

__all__ = ["line_key", "refine_rows", "assemble"]


def line_key(rec: dict) -> tuple:
    """What makes points one line: their kind, and the branch for a branch-specific kind."""
    return rec["kind"], rec.get("branch") or ""


def _by_key(recs) -> dict:
    out = {}
    for r in recs:
        if r.get("value") is not None:
            out.setdefault(line_key(r), []).append(float(r["value"]))
    return {k: sorted(v) for k, v in out.items()}


def refine_rows(rows: dict, dx: float, dy: float, max_step: float = 2.0) -> list:
    """y values half way between consecutive rows (``rows``: y -> records) across which a line
    moves more than ``max_step`` cells (cells dx by dy) or changes its number of points."""
    ys = sorted(rows)
    new = []
    for a, b in zip(ys[:-1], ys[1:]):
        pa, pb = _by_key(rows[a]), _by_key(rows[b])
        need = False
        for k in set(pa) | set(pb):
            xa, xb = pa.get(k, []), pb.get(k, [])
            if len(xa) != len(xb):
                need = True
            elif any(np.hypot((u - v) / dx, (b - a) / dy) > max_step for u, v in zip(xa, xb)):
                need = True
        if need:
            new.append(0.5 * (a + b))
    return new


def assemble(rows: dict, x_span: float, max_jump: float = 0.25) -> list:
    """Lines ``{"kind", "branch", "x": [...], "y": [...]}`` from ``rows`` (y -> records), in
    increasing y.  Where a row has as many points of a key as there are open lines of it, they
    are joined in order of x; otherwise a point joins the open line whose last point is nearest
    in x if that is within ``max_jump`` * ``x_span``, else starts a new line."""
    done, open_ = [], {}
    for y in sorted(rows):
        pts = _by_key(rows[y])
        for k in list(open_):
            if k not in pts:
                done += open_.pop(k)
        for k, xs in pts.items():
            lines = sorted(open_.get(k, []), key=lambda l: l["x"][-1])
            free = list(range(len(lines)))
            nxt = []
            for n, x in enumerate(xs):
                if len(lines) == len(xs):           # as many points as lines: joined in order
                    j = n
                else:
                    j = min(free, key=lambda i: abs(lines[i]["x"][-1] - x), default=None)
                if j is not None and (len(lines) == len(xs) or abs(lines[j]["x"][-1] - x) <= max_jump * x_span):
                    free.remove(j)
                    line = lines[j]
                else:
                    line = {"kind": k[0], "branch": k[1] or None, "x": [], "y": []}
                line["x"].append(x)
                line["y"].append(float(y))
                nxt.append(line)
            done += [lines[i] for i in free]
            open_[k] = nxt
    for lines in open_.values():
        done += lines
    return sorted(done, key=lambda l: (l["kind"], l["branch"] or "", l["y"][0], l["x"][0]))
