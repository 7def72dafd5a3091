"""The symbols every derivation shares: the sample ratio, order parameters and their conjugates.

Names follow the maths (tramp habit): ``m``, ``q``, ``Q``, ``chi`` and ``m_hat``, ``q_hat``,
``Q_hat``, ``chi_hat``.  Scalar (K = 1) symbols here; committee machines will carry K × K
matrices of the same names.
"""
import sympy as sp

alpha = sp.Symbol("alpha", nonnegative=True)

# order parameters
m = sp.Symbol("m", real=True)            # teacher-student overlap  w·w*/N
q = sp.Symbol("q", positive=True)        # overlap of two student replicas
Q = sp.Symbol("Q", positive=True)        # student self-overlap |w|²/N
chi = sp.Symbol("chi", positive=True)    # zero-temperature response  β(Q - q)

# conjugates
m_hat = sp.Symbol("m_hat", real=True)
q_hat = sp.Symbol("q_hat", positive=True)
Q_hat = sp.Symbol("Q_hat", real=True)
chi_hat = sp.Symbol("chi_hat", positive=True)  # zero temperature: Q_hat + q_hat = β chi_hat

# slots of the scalar potentials
b = sp.Symbol("b", real=True)            # field on a weight
A = sp.Symbol("A", positive=True)        # precision on a weight
y = sp.Symbol("y", real=True)            # a label
z = sp.Symbol("z", real=True)            # teacher pre-activation
lam = sp.Symbol("lambda", real=True)     # student pre-activation
omega = sp.Symbol("omega", real=True)    # mean of a pre-activation
V = sp.Symbol("V", positive=True)        # variance of a pre-activation
w = sp.Symbol("w", real=True)            # a weight
beta = sp.Symbol("beta", positive=True)  # inverse temperature
n = sp.Symbol("n")                       # number of replicas

# one eigen-direction of a feature covariance (replica.features): its eigenvalue ω_i and the
# teacher's weight τ_i² on it
eig = sp.Symbol("omega_i", nonnegative=True)
tau2 = sp.Symbol("tau_i2", nonnegative=True)

HATS = {m: m_hat, q: q_hat, Q: Q_hat, chi: chi_hat}
