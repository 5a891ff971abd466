"""Activation functions: their curves, derivatives by autograd, saturation zones and softmax.

One table, `ACTIVATIONS`, lists each function once: how to call it (torch.nn.functional), the
module to put in a network, the same module as source code for the export, and its formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Activation:
    name: str
    latex: str
    fn: Callable[[torch.Tensor, float], torch.Tensor]  # (x, leaky_slope) -> f(x)
    module: Callable[[float], nn.Module]  # leaky_slope -> layer
    code: str  # the layer as source, "{slope}" filled in by the export


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in [
    Activation("sigmoid", r"\sigma(x) = \frac{1}{1 + e^{-x}}",
               lambda x, s: torch.sigmoid(x), lambda s: nn.Sigmoid(), "nn.Sigmoid()"),
    Activation("tanh", r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
               lambda x, s: torch.tanh(x), lambda s: nn.Tanh(), "nn.Tanh()"),
    Activation("relu", r"\mathrm{ReLU}(x) = \max(0, x)",
               lambda x, s: F.relu(x), lambda s: nn.ReLU(), "nn.ReLU()"),
    Activation("leaky_relu", r"\mathrm{LeakyReLU}(x) = \max(x, a x)",
               lambda x, s: F.leaky_relu(x, s), lambda s: nn.LeakyReLU(s), "nn.LeakyReLU({slope})"),
    Activation("elu", r"\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ e^{x} - 1 & x \le 0 \end{cases}",
               lambda x, s: F.elu(x), lambda s: nn.ELU(), "nn.ELU()"),
    Activation("gelu", r"\mathrm{GELU}(x) = x \cdot \Phi(x)",
               lambda x, s: F.gelu(x), lambda s: nn.GELU(), "nn.GELU()"),
    Activation("silu", r"\mathrm{SiLU}(x) = x \cdot \sigma(x)",
               lambda x, s: F.silu(x), lambda s: nn.SiLU(), "nn.SiLU()"),
    Activation("softplus", r"\mathrm{Softplus}(x) = \ln(1 + e^{x})",
               lambda x, s: F.softplus(x), lambda s: nn.Softplus(), "nn.Softplus()"),
    # No activation at all: the network collapses into one linear map.
    Activation("none", r"f(x) = x", lambda x, s: x.clone(), lambda s: nn.Identity(), "nn.Identity()"),
]}

CURVE_NAMES = tuple(n for n in ACTIVATIONS if n != "none")
SATURATION_THRESHOLD = 0.01  # |f'(x)| below this: the gradient has all but vanished


@dataclass
class Curve:
    name: str
    x: np.ndarray
    f: np.ndarray
    df: np.ndarray  # f'(x), from autograd
    saturated: list[tuple[float, float]]  # x intervals where |f'| < SATURATION_THRESHOLD
    f_at_0: float  # f(0) and f'(0) at exactly 0, which need not be a point of the grid
    df_at_0: float


def saturation_zones(x: np.ndarray, df: np.ndarray,
                     threshold: float = SATURATION_THRESHOLD) -> list[tuple[float, float]]:
    """The x intervals where |f'(x)| < threshold, as (start, end) pairs."""
    mask = np.abs(df) < threshold
    zones, start = [], None
    for i, flat in enumerate(mask):
        if flat and start is None:
            start = i
        if start is not None and (not flat or i == len(mask) - 1):
            end = i if flat else i - 1
            zones.append((float(x[start]), float(x[end])))
            start = None
    return zones


def curve(name: str, x_min: float = -5.0, x_max: float = 5.0, points: int = 201,
          leaky_slope: float = 0.01) -> Curve:
    """f and f' over [x_min, x_max]; f' is computed by autograd, not by a formula."""
    act = ACTIVATIONS[name]
    grid = torch.linspace(x_min, x_max, points, dtype=torch.float64)
    x = torch.cat([grid, torch.zeros(1, dtype=torch.float64)]).requires_grad_()  # the grid, then 0 itself
    y = act.fn(x, leaky_slope)
    # Each y_i depends only on x_i, so the gradient of sum(y) is f'(x_i) element by element.
    (dy,) = torch.autograd.grad(y.sum(), x)
    xs, ys, dys = x.detach().numpy(), y.detach().numpy(), dy.numpy()
    return Curve(name, xs[:-1], ys[:-1], dys[:-1], saturation_zones(xs[:-1], dys[:-1]), float(ys[-1]), float(dys[-1]))


def softmax(logits: list[float], temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T): T < 1 sharpens the distribution, T > 1 flattens it; the sum is always 1."""
    z = torch.tensor(logits, dtype=torch.float64)
    return torch.softmax(z / temperature, dim=0).numpy()
