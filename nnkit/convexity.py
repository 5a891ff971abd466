"""Loss functions and convexity, in one dimension: the second-derivative test, Jensen's inequality,
and the mean squared error as the negative log-likelihood under Gaussian noise.

The test the course notes state ("f'' > 0: convex; f'' = 0: a 'flat function'") is not the right
one (coverage-audit §5): a twice-differentiable f on an interval is convex if and only if f'' ≥ 0
everywhere; f'' > 0 everywhere is sufficient for *strict* convexity but not necessary (x⁴ is
strictly convex with f''(0) = 0), and f'' = 0 everywhere means f is affine.

Each function's `f` and `d2` (its second derivative, written by hand) take floats, NumPy arrays or
torch tensors alike, so tests/test_nnkit_convexity.py checks `d2` against autograd.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

DOMAIN = (-3.0, 3.0)  # where the functions are drawn and tested
GRID = 241  # points of the test grid over DOMAIN (a step of 0.025)


def _lib(v: Any):
    return torch if isinstance(v, torch.Tensor) else np


def _sigmoid(v):
    return 1 / (1 + _lib(v).exp(-v))


@dataclass(frozen=True)
class Function:
    name: str
    f: Callable[[Any], Any]
    d2: Callable[[Any], Any]  # f'', by hand
    convex: bool  # what the test must find


FUNCTIONS = {
    # convex
    "square": Function("square", lambda x: x * x, lambda x: 2 + 0 * x, True),
    "quartic": Function("quartic", lambda x: x ** 4 / 4, lambda x: 3 * x * x, True),  # f''(0) = 0, still convex
    "logcosh": Function("logcosh", lambda x: _lib(x).log(_lib(x).cosh(x)), lambda x: 1 - _lib(x).tanh(x) ** 2, True),
    # the logistic (cross-entropy) loss of a logit x whose label is 1: log(1 + e^(−x))
    "logistic": Function("logistic", lambda x: _lib(x).log(1 + _lib(x).exp(-x)),
                         lambda x: _sigmoid(x) * (1 - _sigmoid(x)), True),
    "affine": Function("affine", lambda x: 0.5 * x + 1, lambda x: 0 * x, True),  # f'' = 0: convex and concave
    # not convex
    "double_well": Function("double_well", lambda x: x ** 4 / 4 - x * x, lambda x: 3 * x * x - 2, False),
    "wavy": Function("wavy", lambda x: 0.1 * x * x + 1 - _lib(x).cos(2 * x), lambda x: 0.2 + 4 * _lib(x).cos(2 * x), False),
    # the squared error of a sigmoid output against the label 1: (σ(x) − 1)²
    "sigmoid_mse": Function("sigmoid_mse", lambda x: (_sigmoid(x) - 1) ** 2,
                            lambda x: -2 * _sigmoid(x) * (1 - _sigmoid(x)) ** 2 * (1 - 3 * _sigmoid(x)), False),
}
CONVEX = tuple(n for n, fn in FUNCTIONS.items() if fn.convex)
NONCONVEX = tuple(n for n, fn in FUNCTIONS.items() if not fn.convex)
TOLERANCE = 1e-12  # f'' above −TOLERANCE counts as ≥ 0 (rounding of a value that is exactly 0)


def grid() -> np.ndarray:
    return np.linspace(*DOMAIN, GRID)


def second_derivative_test(name: str) -> dict:
    """f and f'' on the grid, the smallest f'', where f'' < 0, and the verdict of the test."""
    fn = FUNCTIONS[name]
    xs = grid()
    d2 = np.broadcast_to(np.asarray(fn.d2(xs), dtype=float), xs.shape)
    negative = d2 < -TOLERANCE
    return {"x": xs.tolist(), "f": np.asarray(fn.f(xs), dtype=float).tolist(), "d2": d2.tolist(),
            "min_d2": float(d2.min()), "argmin_d2": float(xs[d2.argmin()]),
            "negative_share": float(negative.mean()), "regions": _regions(xs, negative),
            "convex": not bool(negative.any()), "strict": bool((d2 > TOLERANCE).all())}


def _regions(xs: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """The runs of grid points where `mask` holds, as (from, to)."""
    out, begin = [], None
    for x, inside in zip(xs, mask):
        if inside and begin is None:
            begin = float(x)
        if not inside and begin is not None:
            out.append((begin, last))
            begin = None
        last = float(x)
    if begin is not None:
        out.append((begin, last))
    return out


def jensen(name: str, a: float, b: float, lam: float) -> dict:
    """Jensen's inequality for two points: f(λa + (1−λ)b) against λf(a) + (1−λ)f(b), the chord.

    A convex f keeps the chord above the function for every λ; `gap` is chord minus function
    (≥ 0 for convex f), `min_gap` its smallest value over λ in [0, 1] and `worst_lam` where."""
    f = FUNCTIONS[name].f
    x = lam * a + (1 - lam) * b
    chord, value = lam * f(a) + (1 - lam) * f(b), f(x)
    lams = np.linspace(0.0, 1.0, 201)
    gaps = lams * f(a) + (1 - lams) * f(b) - f(lams * a + (1 - lams) * b)
    return {"a": a, "b": b, "lam": lam, "x": x, "f_a": float(f(a)), "f_b": float(f(b)), "f_x": float(value),
            "chord": float(chord),
            "gap": float(chord - value), "holds": bool(chord - value >= -TOLERANCE),
            "min_gap": float(gaps.min()), "worst_lam": float(lams[gaps.argmin()])}


# --- the mean squared error as maximum likelihood ---

TRUE_W = 2.0  # the data: y = 2x + N(0, σ²), x ~ N(0, 1); the model: y = w·x


def sample(n: int, sigma: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float64)
    return x, TRUE_W * x + sigma * torch.randn(n, generator=g, dtype=torch.float64)


def mse(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean squared error of y ≈ w·x for each w of a 1-D tensor of slopes."""
    return torch.nn.functional.mse_loss(w[:, None] * x, y.expand(len(w), -1), reduction="none").mean(dim=1)


def nll(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, sigma: float) -> torch.Tensor:
    """The negative log-likelihood of the data when y ~ N(w·x, σ²), for each w: −Σ log p(yᵢ)."""
    return -torch.distributions.Normal(w[:, None] * x, sigma).log_prob(y).sum(dim=1)


def likelihood(n: int, sigma: float, seed: int, points: int = 201) -> dict:
    """The NLL and the MSE over slopes w around the least-squares one, and the identity that ties
    them: NLL(w) = n/(2σ²)·MSE(w) + n/2·log(2πσ²), so both have their minimum at the same w."""
    x, y = sample(n, sigma, seed)
    best = float((x * y).sum() / (x * x).sum())  # least squares: d MSE / dw = 0
    ws = torch.linspace(best - 2.0, best + 2.0, points, dtype=torch.float64)
    m, l = mse(ws, x, y), nll(ws, x, y, sigma)
    scale, const = n / (2 * sigma ** 2), n / 2 * math.log(2 * math.pi * sigma ** 2)
    at_best = torch.tensor([best], dtype=torch.float64)
    return {"w": ws.tolist(), "mse": m.tolist(), "nll": l.tolist(), "x": x.tolist(), "y": y.tolist(),
            "best_w": best, "argmin_mse": float(ws[m.argmin()]), "argmin_nll": float(ws[l.argmin()]),
            "mse_at_best": float(mse(at_best, x, y)[0]), "nll_at_best": float(nll(at_best, x, y, sigma)[0]),
            "scale": scale, "const": const, "identity_error": float((l - (scale * m + const)).abs().max())}
