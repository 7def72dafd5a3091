"""Independent oracle for Gibbs learning of committee machines (nothing imported from ``replica``).

``entropic_term(Q, q, m, rho0=1)``: the entropic part of the RS free entropy of K Gaussian weight
vectors per replica with K × K overlaps Q (one student with itself), q (two students), m (student
with teacher), written as matrices (Gardner's volume of K vectors; Schwarze & Hertz 1993, eq. for
G_S with a Gaussian prior instead of spherical units; Engel & Van den Broeck 2001, ch. 12):

    G_S = −Tr Q/(2ρ₀) + ½ log det(Q − q) + ½ Tr[(Q − m mᵀ/ρ₀)(Q − q)^{−1}],

at K = 1 the perceptron's −Q/2 + ½ log(Q − q) + (Q − m²)/(2(Q − q)).
"""
from __future__ import annotations

import numpy as np


def entropic_term(Q, q, m, rho0=1.0):
    Q, q, m = (np.asarray(a, float) for a in (Q, q, m))
    V = Q - q
    sign, logdet = np.linalg.slogdet(V)
    if sign <= 0:
        raise ValueError("Q - q is not positive definite")
    return float(-np.trace(Q) / (2 * rho0) + 0.5 * logdet + 0.5 * np.trace((Q - m @ m.T / rho0) @ np.linalg.inv(V)))
