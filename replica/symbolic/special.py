"""Special functions the derivations produce, with their calculus, kept stable for numerics."""
import sympy as sp

__all__ = ["LogSumExp", "XLogX"]


class LogSumExp(sp.Function):
    """log Σ_i e^{x_i}.  ∂/∂x_i = e^{x_i - LSE} (a softmax weight), so ratios such as
    Z_w'/Z_w of a discrete prior come out as Σ_i a_i e^{x_i - LSE}: no overflow for large fields."""

    @classmethod
    def eval(cls, *args):
        # common additive terms come out: LSE(a + t, b + t) = t + LSE(a, b)
        if len(args) < 2:
            return args[0] if args else None
        common = set(sp.Add.make_args(sp.expand(args[0])))
        for a in args[1:]:
            common &= set(sp.Add.make_args(sp.expand(a)))
        if common:
            t = sp.Add(*common)
            return t + cls(*[sp.expand(a) - t for a in args])
        return None

    def fdiff(self, argindex=1):
        return sp.exp(self.args[argindex - 1] - self)

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def _eval_is_extended_real(self):
        return self._eval_is_real()

    def _latex(self, printer, exp=None):
        s = r"\log\left(%s\right)" % " + ".join(r"e^{%s}" % printer._print(a) for a in self.args)
        return s if exp is None else r"\left(%s\right)^{%s}" % (s, exp)


class XLogX(sp.Function):
    """x log x with the limit 0 at x = 0 (Z log Z of a Bayes-optimal output whose tail underflows)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.log(self.args[0]) + 1

    def _latex(self, printer, exp=None):
        a = printer._print(self.args[0])
        return r"\left(%s\right)\log\left(%s\right)" % (a, a)
