"""Built-in models (DESIGN.md's table): names and parameter names are part of the contract."""
from __future__ import annotations

from . import channels, learning, losses, priors
from .features import RandomFeatures
from .model import Model

__all__ = ["BUILTINS"]


def _m(name, prior, teacher, setting, defaults, description, features=None):
    def make():
        return Model(prior=prior(), teacher=teacher(), learning=setting(), name=name,
                     defaults=dict(defaults), description=description,
                     features=features() if features is not None else None)
    make.description = description
    make.defaults = defaults
    return make


def _committee(name, prior, description, soft=False):
    """A committee built-in: K (default 2) hidden units, sign of the sum of the K signs (a tie,
    for even K, is the label 0), Bayes-optimal; ``K`` is a parameter (``--set K=3`` rebuilds
    the model with that many units, see ``replica.committee.with_hidden_units``)."""
    def make():
        from .committee.models import committee_model, soft_committee_model
        m = soft_committee_model(2, prior, name=name) if soft else committee_model(2, prior, "sign", name=name)
        m.description = description
        return m
    make.description = description
    make.defaults = {"alpha": 1.0, "K": 2, "delta": 0.01} if soft else {"alpha": 1.0, "K": 2}
    make.committee = True          # tests that need the perceptron interface can filter on it
    return make


def _committee_gibbs():
    """``committee-gibbs``: K (default 3) sign units with Gaussian weights, a committee student
    at temperature T (replica.committee.gibbs)."""
    def make():
        from .committee.gibbs import committee_gibbs
        return committee_gibbs(3)
    make.description = ("committee machine of K sign units with Gaussian weights (ties to +1), learnt by a "
                        "committee student at temperature T with the training-error energy (Schwarze & Hertz 1993)")
    make.defaults = {"alpha": 1.0, "K": 3, "T": 0.5}
    make.committee = True
    return make


BUILTINS = {
    "gardner": _m("gardner", priors.Spherical, channels.RandomLabels,
                  lambda: learning.Volume(margin="kappa"), {"alpha": 1.0, "kappa": 0.0},
                  "Gardner volume of spherical weights storing random labels with margin kappa (Gardner 1988)"),
    "ising-storage": _m("ising-storage", priors.Ising, channels.RandomLabels,
                        lambda: learning.Volume(margin="kappa"), {"alpha": 0.5, "kappa": 0.0},
                        "binary (±1) weights storing random labels (Gardner & Derrida 1988; Krauth & Mézard 1989)"),
    "perceptron-gibbs": _m("perceptron-gibbs", priors.Spherical, lambda: channels.Sign(),
                           lambda: learning.Gibbs("T", losses.Errors()), {"alpha": 1.0, "T": 0.5},
                           "spherical teacher-student perceptron, Gibbs learning at temperature T (Györgyi & Tishby 1990)"),
    "perceptron-bayes": _m("perceptron-bayes", priors.Spherical, lambda: channels.Sign(flip="flip"),
                           learning.BayesOptimal, {"alpha": 1.0, "flip": 0.0},
                           "spherical teacher-student perceptron, Bayes-optimal (Opper & Haussler 1991)"),
    "ising-gibbs": _m("ising-gibbs", priors.Ising, lambda: channels.Sign(),
                      lambda: learning.Gibbs("T", losses.Errors()), {"alpha": 1.0, "T": 0.5},
                      "binary teacher-student perceptron, Gibbs learning at temperature T (Seung, Sompolinsky & Tishby 1992)"),
    "ising-bayes": _m("ising-bayes", priors.Ising, lambda: channels.Sign(flip="flip"),
                      learning.BayesOptimal, {"alpha": 1.0, "flip": 0.0},
                      "binary teacher-student perceptron, Bayes-optimal (Györgyi 1990; Barbier et al. 2019)"),
    "linear-bayes": _m("linear-bayes", lambda: priors.Gaussian(1), lambda: channels.Linear(noise="delta"),
                       learning.BayesOptimal, {"alpha": 1.0, "delta": 0.1},
                       "Gaussian weights, linear channel with noise delta, Bayes-optimal (Barbier et al. 2019)"),
    "ridge": _m("ridge", lambda: priors.Gaussian(1), lambda: channels.Linear(noise="delta"),
                lambda: learning.ERM(losses.Square(), ridge="lam"), {"alpha": 1.0, "delta": 0.1, "lam": 0.1},
                "ridge regression of a noisy linear teacher (Hastie et al. 2019; Aubin et al. 2020)"),
    "logistic": _m("logistic", lambda: priors.Gaussian(1), lambda: channels.Sign(flip="flip"),
                   lambda: learning.ERM(losses.Logistic(), ridge="lam"), {"alpha": 1.0, "flip": 0.0, "lam": 0.1},
                   "logistic regression with a ridge penalty on a sign teacher (Aubin et al. 2020)"),
    "hinge": _m("hinge", lambda: priors.Gaussian(1), lambda: channels.Sign(flip="flip"),
                lambda: learning.ERM(losses.Hinge(), ridge="lam"), {"alpha": 1.0, "flip": 0.0, "lam": 0.1},
                "support-vector machine (hinge loss, ridge penalty) on a sign teacher (Aubin et al. 2020)"),
    "random-features": _m("random-features", lambda: priors.Gaussian(1), lambda: channels.Linear(noise="delta"),
                          lambda: learning.ERM(losses.Square(), ridge="lam"),
                          {"alpha": 1.0, "psi": 2.0, "lam": 0.01, "delta": 0.1},
                          "ridge regression on ReLU random features sigma(Fx/sqrt D) of a noisy linear teacher; "
                          "alpha = P/D, psi = N/D (Mei & Montanari 2019; d'Ascoli et al. 2020)",
                          features=lambda: RandomFeatures("relu", ratio="psi")),
    "random-features-logistic": _m("random-features-logistic", lambda: priors.Gaussian(1), lambda: channels.Sign(),
                                   lambda: learning.ERM(losses.Logistic(), ridge="lam"),
                                   {"alpha": 1.0, "psi": 2.0, "lam": 0.1},
                                   "logistic regression on erf random features of a sign teacher; alpha = P/D, "
                                   "psi = N/D (Gerace et al. 2020)",
                                   features=lambda: RandomFeatures("erf", ratio="psi")),
    "committee-bayes": _committee(
        "committee-bayes", "gaussian",
        "committee machine of K hidden units with Gaussian weights, label the sign of the sum of "
        "the K signs (0 on a tie), Bayes-optimal (Aubin et al. 2018; Schwarze & Hertz 1993)"),
    "committee-ising-bayes": _committee(
        "committee-ising-bayes", "ising",
        "committee machine of K hidden units with binary (±1) weights, label the sign of the sum "
        "of the K signs (0 on a tie), Bayes-optimal (Aubin et al. 2018)"),
    "committee-gibbs": _committee_gibbs(),
    "soft-committee-bayes": _committee(
        "soft-committee-bayes", "gaussian",
        "soft committee machine of K erf units with Gaussian weights, label sum_k erf(h_k/sqrt 2) plus "
        "Gaussian noise of variance delta, Bayes-optimal (Aubin et al. 2018)", soft=True),
}
