"""Phase diagrams: 2-D grids solved from every initial condition, transition lines traced by
root finding and followed between rows, NetCDF / JSON output and publication plots.

* :func:`phase_diagram` — the grid and its lines as an :class:`xarray.Dataset`
  (:mod:`.dataset` documents its layout);
* :func:`lines`, :func:`to_json`, :func:`save`, :func:`load` — the traced lines, the JSON
  document of ``replica phase-diagram --json``, NetCDF out and in;
* :func:`plot` — phases as regions (or an observable as a heat map), each kind of line in its
  own style, with a legend (:mod:`.plot`);
* lines are located row by row and followed between rows (:mod:`.tracing`);
* rows run in this process or on Dask (:mod:`.distributed`), as the same tasks (:mod:`.grid`).
"""
from .dataset import PHASES, load, lines, save, to_json
from .diagram import phase_diagram
from .plot import plot

__all__ = ["phase_diagram", "lines", "to_json", "save", "load", "plot", "PHASES"]
