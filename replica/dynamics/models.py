"""Dynamical built-ins (DESIGN.md): ``soft-committee-sgd`` (K, M, eta) and
``spiked-matrix-tensor`` (p, delta2, deltap, T).  Each has declared parameter domains and
defaults; integer parameters are checked to be integers."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model import ModelError
from ..params import Domain, ParameterError, POSITIVE, NONNEGATIVE

__all__ = ["DynamicalModel", "DYNAMICAL", "load_dynamical"]


@dataclass(frozen=True)
class DynamicalModel:
    name: str
    parameters: dict            # name -> Domain
    defaults: dict
    integers: tuple = ()
    description: str = ""
    algorithms: tuple = field(default=())

    def values(self, given: dict) -> dict:
        """Defaults overridden by ``given``, every value checked against its domain."""
        unknown = [k for k in given if k not in self.parameters]
        if unknown:
            raise ParameterError(f"unknown parameter {unknown[0]!r} for model {self.name!r}; "
                                 f"its parameters are {', '.join(self.parameters)}")
        out = {**self.defaults, **given}
        for k, dom in self.parameters.items():
            v = dom.check(k, out[k])
            if k in self.integers:
                if v != int(v):
                    raise ParameterError(f"parameter {k!r} must be an integer, got {v:g}")
                v = int(v)
            out[k] = v
        return out


_INT_GE1 = Domain(1.0, 64.0, False, False)
DYNAMICAL = {
    "soft-committee-sgd": DynamicalModel(
        "soft-committee-sgd", {"K": _INT_GE1, "M": _INT_GE1, "eta": POSITIVE},
        {"K": 2, "M": 2, "eta": 0.5}, ("K", "M"),
        "online SGD of a soft committee of K erf units learning a teacher of M erf units, rate eta "
        "(Saad & Solla 1995)", ("online-sgd",)),
    "spiked-matrix-tensor": DynamicalModel(
        "spiked-matrix-tensor", {"p": Domain(3.0, 4.0, False, False), "delta2": POSITIVE, "deltap": POSITIVE,
                                 "T": NONNEGATIVE},
        {"p": 3, "delta2": 0.5, "deltap": 1.0, "T": 0.0}, ("p",),
        "spherical spiked matrix-tensor model, gradient flow / Langevin dynamics at temperature T "
        "(Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani & Zdeborová 2019)", ("gradient-flow", "langevin")),
}


def load_dynamical(name: str) -> DynamicalModel:
    if name not in DYNAMICAL:
        raise ModelError(f"unknown dynamical model {name!r}; choose from {', '.join(DYNAMICAL)}")
    return DYNAMICAL[name]
