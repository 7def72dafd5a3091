"""Structured inputs: random features and the Gaussian covariate model (``Model(features=...)``)."""
from .coefficients import gaussian_moments
from .components import ACTIVATIONS, Features, GaussianCovariate, RandomFeatures

__all__ = ["Features", "RandomFeatures", "GaussianCovariate", "gaussian_moments", "ACTIVATIONS"]
