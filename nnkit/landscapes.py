"""2-D test functions, each showing one challenge of optimisation the course names, with analytic
gradients (tests/test_nnkit_optimizers.py checks them against autograd).

A landscape's `f(x, y)` and `grad(x, y)` take floats, NumPy arrays or torch tensors alike (only
arithmetic, `exp`, `cos` and `sin` of the array's own library), so the same formula draws the
contour grid, drives the race and is differentiated by autograd.

- "bowl": 0.5 (x² + κ y²), the quadratic with condition number κ (ill-conditioned when κ is large);
- "rosenbrock": (1 − x)² + 100 (y − x²)², a narrow curved ravine, minimum (1, 1);
- "saddle": x² + y⁴/4 − y², a saddle point at (0, 0) (gradient 0, a minimum along x and a maximum
  along y), minima at (0, ±√2);
- "minima": 0.1 (x² + y²) + 1 − cos(2x) cos(2y), many local minima, the global one at (0, 0);
- "cliff": 0.1 ((x + 1)² + y²) + 5 tanh(10 x): a gentle slope that ends in a drop of slope 50 at
  x = 0 (a cliff): a step taken at its edge is thrown far beyond it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch


def _lib(v: Any):
    return torch if isinstance(v, torch.Tensor) else np


def _tanh(v):
    return _lib(v).tanh(v)


@dataclass(frozen=True)
class Landscape:
    name: str
    f: Callable[..., Any]  # (x, y, kappa) -> value
    grad: Callable[..., tuple]  # (x, y, kappa) -> (df/dx, df/dy)
    minimum: Callable[[float], tuple[float, float]]  # kappa -> the global minimum (x*, y*)
    box: tuple[float, float, float, float]  # the plot: x from, x to, y from, y to
    start: tuple[float, float]  # a start point that shows the challenge


def _cliff_minimum(kappa: float) -> tuple[float, float]:
    """Where 0.2 (x + 1) + 50 sech²(10 x) = 0 below the wall: bisection on [-2, -0.5]."""
    low, high = -2.0, -0.5  # the slope is negative at -2 and positive at -0.5
    for _ in range(80):
        mid = (low + high) / 2
        if 0.2 * (mid + 1) + 50 / math.cosh(10 * mid) ** 2 < 0:
            low = mid
        else:
            high = mid
    return ((low + high) / 2, 0.0)


LANDSCAPES = {
    "bowl": Landscape(
        "bowl", lambda x, y, k=10.0: 0.5 * (x * x + k * y * y), lambda x, y, k=10.0: (x, k * y),
        lambda k: (0.0, 0.0), (-3.0, 3.0, -2.0, 2.0), (-2.5, 1.5)),
    "rosenbrock": Landscape(
        "rosenbrock", lambda x, y, k=10.0: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
        lambda x, y, k=10.0: (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)),
        lambda k: (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0), (-1.5, 2.0)),
    "saddle": Landscape(
        "saddle", lambda x, y, k=10.0: x * x + y ** 4 / 4 - y * y, lambda x, y, k=10.0: (2 * x, y ** 3 - 2 * y),
        lambda k: (0.0, math.sqrt(2)), (-2.0, 2.0, -2.0, 2.0), (-1.8, 0.001)),
    "minima": Landscape(
        "minima", lambda x, y, k=10.0: 0.1 * (x * x + y * y) + 1 - _lib(x).cos(2 * x) * _lib(y).cos(2 * y),
        lambda x, y, k=10.0: (0.2 * x + 2 * _lib(x).sin(2 * x) * _lib(y).cos(2 * y),
                              0.2 * y + 2 * _lib(x).cos(2 * x) * _lib(y).sin(2 * y)),
        lambda k: (0.0, 0.0), (-4.0, 4.0, -4.0, 4.0), (-3.0, 2.5)),
    "cliff": Landscape(
        "cliff", lambda x, y, k=10.0: 0.1 * ((x + 1) ** 2 + y * y) + 5 * _tanh(10 * x),
        lambda x, y, k=10.0: (0.2 * (x + 1) + 50 * (1 - _tanh(10 * x) ** 2), 0.2 * y),
        _cliff_minimum, (-3.0, 3.0, -2.0, 2.0), (2.5, 1.5)),
}
NAMES = tuple(LANDSCAPES)


def grid(name: str, kappa: float = 10.0, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The function on an n × n grid over the landscape's box: xs, ys and values (rows are ys)."""
    land = LANDSCAPES[name]
    x0, x1, y0, y1 = land.box
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, land.f(gx, gy, kappa)
