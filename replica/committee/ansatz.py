"""The permutation-symmetric ansatz for K × K order parameters, symbolically for any K.

Every K × K overlap of a committee machine whose hidden units are alike is, under the
ansatz of Aubin et al. (2018, §3) and Schwarze & Hertz (1993),

    M = d I_K + (a / K) J_K ,      J_K = 1 1ᵀ  (all ones),

so these matrices form a commutative algebra: J² = K J gives

    (d I + a J/K)(d' I + a' J/K) = d d' I + (d a' + a d' + a a') J/K ,
    Tr M = K d + a ,     eigenvalues  d (K - 1 times, ⊥ 1)  and  d + a (along 1),
    f(M) = f(d) I + (f(d + a) - f(d)) J/K   for any scalar function f.

``d = 0`` is the *unspecialized* subspace (every hidden unit has the same overlap with every
teacher unit); ``a = 0`` with ``d = ρ`` is perfect recovery.  ``K`` may be a SymPy symbol: the
coupling term of the free entropy is derived here for general K.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["PermSym", "K_SYMBOL"]

#: the number of hidden units, as a symbol (formulas valid for every K)
K_SYMBOL = sp.Symbol("K", positive=True, integer=True)


@dataclass(frozen=True)
class PermSym:
    """d I_K + (a/K) J_K.  ``K`` an integer or a SymPy symbol."""

    d: sp.Expr
    a: sp.Expr
    K: sp.Expr = K_SYMBOL

    def __mul__(self, other: "PermSym") -> "PermSym":
        return PermSym(self.d * other.d, self.d * other.a + self.a * other.d + self.a * other.a, self.K)

    def __add__(self, other: "PermSym") -> "PermSym":
        return PermSym(self.d + other.d, self.a + other.a, self.K)

    def __sub__(self, other: "PermSym") -> "PermSym":
        return PermSym(self.d - other.d, self.a - other.a, self.K)

    def scale(self, c) -> "PermSym":
        return PermSym(c * self.d, c * self.a, self.K)

    def trace(self) -> sp.Expr:
        return self.K * self.d + self.a

    @property
    def perp(self) -> sp.Expr:
        """Eigenvalue on the K - 1 directions orthogonal to 1."""
        return self.d

    @property
    def parallel(self) -> sp.Expr:
        """Eigenvalue along 1 = (1, ..., 1)/√K."""
        return self.d + self.a

    def apply(self, f) -> "PermSym":
        """f(M) by the spectral theorem."""
        fp, fl = f(self.perp), f(self.parallel)
        return PermSym(fp, fl - fp, self.K)

    @property
    def diagonal(self) -> sp.Expr:
        """Each diagonal entry d + a/K."""
        return self.d + self.a / self.K

    @property
    def off_diagonal(self) -> sp.Expr:
        """Each off-diagonal entry a/K."""
        return self.a / self.K

    @classmethod
    def from_entries(cls, diagonal, off_diagonal, K) -> "PermSym":
        """The ansatz matrix with the given diagonal and off-diagonal entries
        (the projection of any K × K matrix onto the ansatz: means of its diagonal and
        off-diagonal entries)."""
        return cls(diagonal - off_diagonal, K * off_diagonal, K)

    def matrix(self) -> sp.Matrix:
        """The explicit K × K matrix (integer K only)."""
        K = int(self.K)
        return self.d * sp.eye(K) + self.a / K * sp.ones(K, K)
