"""Loss functions and convexity (nnkit.convexity): the second-derivative test on a convex and a
non-convex loss, Jensen's inequality for two points on each, and the mean squared error as the
negative log-likelihood of a linear model under Gaussian noise. Computed in a blink, nothing
trained: no run record."""

from __future__ import annotations

from typing import Callable

from nnkit import convexity as C
from nnkit.experiments.base import Section, comments

TEST_KEYS = ("min_d2", "argmin_d2", "negative_share", "convex", "strict")
LIKELIHOOD_KEYS = ("best_w", "argmin_mse", "argmin_nll", "mse_at_best", "nll_at_best", "scale", "const",
                   "identity_error")


def run_convexity(p, callback: Callable[[dict], None] | None = None) -> dict:
    names = (p.convex_fn, p.nonconvex_fn)
    return {"section": "loss_functions", "names": names,
            "test": {n: C.second_derivative_test(n) for n in names},
            "jensen": {n: C.jensen(n, p.point_a, p.point_b, p.lam) for n in names},
            "likelihood": C.likelihood(p.mle_samples, p.sigma, p.seed), "stopped": False}


def summary_convexity(result: dict) -> dict:
    return {"section": "loss_functions",
            "test": {n: {k: r[k] for k in TEST_KEYS} for n, r in result["test"].items()},
            "jensen": result["jensen"],
            "likelihood": {k: result["likelihood"][k] for k in LIKELIHOOD_KEYS}}


# Each function as torch writes it (the export's; its numbers are tested against the page's).
FORMULAS = {
    "square": "x * x", "quartic": "x ** 4 / 4", "logcosh": "torch.log(torch.cosh(x))",
    "logistic": "torch.log(1 + torch.exp(-x))", "affine": "0.5 * x + 1", "double_well": "x ** 4 / 4 - x * x",
    "wavy": "0.1 * x * x + 1 - torch.cos(2 * x)", "sigmoid_mse": "(torch.sigmoid(x) - 1) ** 2",
}

COMMENTS = {
    "en": {"settings": "NN Playground - Optimizers (loss functions and convexity), exported with these settings:",
           "needs": "Needs torch.",
           "d2": "f'' by autograd: differentiate the gradient once more",
           "test": "convex on an interval if and only if f'' >= 0 everywhere there (f'' > 0 is only sufficient "
                   "for strict convexity)",
           "jensen": "Jensen: for convex f the chord lies above the function, f(lam a + (1-lam) b) <= lam f(a) + "
                     "(1-lam) f(b)",
           "nll": "y ~ N(w x, sigma^2): NLL(w) = n / (2 sigma^2) * MSE(w) + n/2 log(2 pi sigma^2)"},
    "zh": {"settings": "NN Playground - 优化器(损失函数与凸性),导出时的设置:",
           "needs": "需要 torch。",
           "d2": "用自动求导得到 f'':对梯度再求一次导",
           "test": "在区间上为凸函数,当且仅当处处 f'' >= 0(f'' > 0 只是严格凸的充分条件)",
           "jensen": "Jensen 不等式:凸函数的弦在函数图像上方,f(lam a + (1-lam) b) <= lam f(a) + (1-lam) f(b)",
           "nll": "y ~ N(w x, sigma^2):NLL(w) = n / (2 sigma^2) * MSE(w) + n/2 log(2 pi sigma^2)"},
}

_SCRIPT = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import math

import torch

FUNCTIONS = {{{functions}}}
A, B, LAM = {a!r}, {b!r}, {lam!r}
N, SIGMA, SEED, TRUE_W = {n!r}, {sigma!r}, {seed!r}, {true_w!r}

xs = torch.linspace({lo!r}, {hi!r}, {points!r}, dtype=torch.float64, requires_grad=True)
for name, f in FUNCTIONS.items():
    d1, = torch.autograd.grad(f(xs).sum(), xs, create_graph=True)
    # {c[d2]}
    d2 = torch.autograd.grad(d1.sum(), xs)[0] if d1.requires_grad else torch.zeros_like(xs)
    negative = d2 < -{tol!r}
    # {c[test]}
    print(f"{{name}}: min f'' {{d2.min().item():.6g}} at x = {{xs[d2.argmin()].item():.6g}}, share with f'' < 0 "
          f"{{negative.double().mean().item():.6g}}, convex {{not bool(negative.any())}}")
    # {c[jensen]}
    fa, fb = f(torch.tensor(A, dtype=torch.float64)), f(torch.tensor(B, dtype=torch.float64))
    value = f(torch.tensor(LAM * A + (1 - LAM) * B, dtype=torch.float64)).item()
    chord = (LAM * fa + (1 - LAM) * fb).item()
    print(f"{{name}}: f(lam a + (1-lam) b) {{value:.6g}}, lam f(a) + (1-lam) f(b) {{chord:.6g}}, gap {{chord - value:.6g}}")

g = torch.Generator().manual_seed(SEED)
x = torch.randn(N, generator=g, dtype=torch.float64)
y = TRUE_W * x + SIGMA * torch.randn(N, generator=g, dtype=torch.float64)
w = ((x * y).sum() / (x * x).sum()).item()  # least squares
mse = torch.nn.functional.mse_loss(w * x, y).item()
# {c[nll]}
nll = -torch.distributions.Normal(w * x, SIGMA).log_prob(y).sum().item()
scale, const = N / (2 * SIGMA ** 2), N / 2 * math.log(2 * math.pi * SIGMA ** 2)
print(f"least squares w {{w:.6g}}, MSE {{mse:.6g}}, NLL {{nll:.6g}}, n/(2 sigma^2) {{scale:.6g}}, const {{const:.6g}}, "
      f"NLL - (n/(2 sigma^2) MSE + const) {{nll - (scale * mse + const):.1e}}")
'''


def export_convexity(p, lang: str = "en") -> str:
    from nnkit.experiments.optimizers import applies
    from nnkit.runs import settings_text

    settings = "\n".join(f"    {k} = {v!r}" for k, v in settings_text(p, list(applies(p))).items())
    functions = ", ".join(f"{n!r}: lambda x: {FORMULAS[n]}" for n in (p.convex_fn, p.nonconvex_fn))
    return _SCRIPT.format(c=comments(COMMENTS, lang), settings=settings, functions=functions, a=p.point_a,
                          b=p.point_b, lam=p.lam, n=p.mle_samples, sigma=p.sigma, seed=p.seed, true_w=C.TRUE_W,
                          lo=C.DOMAIN[0], hi=C.DOMAIN[1], points=C.GRID, tol=C.TOLERANCE)


LOSS_FUNCTIONS = Section(
    settings=("convex_fn", "nonconvex_fn", "point_a", "point_b", "lam", "sigma", "mle_samples"),
    run=run_convexity, summary=summary_convexity, shown=lambda result: [], epochs=lambda p: 0,
    export=export_convexity)
