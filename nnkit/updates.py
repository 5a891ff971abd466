"""The update rules of gradient descent and its variants, written from scratch the way the course
writes them, and a race of any set of them on a 2-D landscape (nnkit.landscapes).

Each rule is `step(w, g, state, h)`: the new weights from the weights `w`, the gradient `g`, the
rule's own running state (a dict it fills on its first step) and the hyper-parameters `h`. It uses
only arithmetic and `** 0.5`, so one rule updates a NumPy array (the race) or a torch tensor (a
network); tests/test_nnkit_optimizers.py checks each against `torch.optim` (built by
nnkit.optim.make_optimizer with the same settings) over 100 steps. PyTorch's conventions:

    gd        w ← w − η g
    momentum  v ← μ v + g;  w ← w − η v                    (Polyak's heavy ball, 1964)
    nesterov  v ← μ v + g;  w ← w − η (g + μ v)
    adagrad   s ← s + g²;  w ← w − η g / (√s + ε)
    rmsprop   s ← α s + (1 − α) g²;  w ← w − η g / (√s + ε)
    adadelta  s ← ρ s + (1 − ρ) g²;  d = √(Δ + ε) / √(s + ε) · g;  Δ ← ρ Δ + (1 − ρ) d²;  w ← w − η d
    adam      m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  w ← w − η m̂ / (√v̂ + ε),
              m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
    adamw     w ← w − η λ w, then adam (decoupled weight decay)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from nnkit.landscapes import LANDSCAPES


def _gd(w, g, s, h):
    return w - h["lr"] * g


def _momentum(w, g, s, h):
    s["v"] = h["momentum"] * s.get("v", 0 * g) + g
    return w - h["lr"] * s["v"]


def _nesterov(w, g, s, h):
    s["v"] = h["momentum"] * s.get("v", 0 * g) + g
    return w - h["lr"] * (g + h["momentum"] * s["v"])


def _adagrad(w, g, s, h):
    s["s"] = s.get("s", 0 * g) + g * g
    return w - h["lr"] * g / (s["s"] ** 0.5 + h["eps"])


def _rmsprop(w, g, s, h):
    s["s"] = h["alpha"] * s.get("s", 0 * g) + (1 - h["alpha"]) * g * g
    return w - h["lr"] * g / (s["s"] ** 0.5 + h["eps"])


def _adadelta(w, g, s, h):
    rho, eps = h["rho"], h["eps"]
    s["s"] = rho * s.get("s", 0 * g) + (1 - rho) * g * g
    d = (s.get("delta", 0 * g) + eps) ** 0.5 / (s["s"] + eps) ** 0.5 * g
    s["delta"] = rho * s.get("delta", 0 * g) + (1 - rho) * d * d
    return w - h["lr"] * d


def _adam(w, g, s, h):
    b1, b2 = h["beta1"], h["beta2"]
    t = s["t"] = s.get("t", 0) + 1
    s["m"] = b1 * s.get("m", 0 * g) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0 * g) + (1 - b2) * g * g
    m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
    return w - h["lr"] * m_hat / (v_hat ** 0.5 + h["eps"])


def _adamw(w, g, s, h):
    return _adam(w - h["lr"] * h["weight_decay"] * w, g, s, h)


RULES: dict[str, Callable] = {"gd": _gd, "momentum": _momentum, "nesterov": _nesterov, "adagrad": _adagrad,
                              "rmsprop": _rmsprop, "adadelta": _adadelta, "adam": _adam, "adamw": _adamw}
NAMES = tuple(RULES)
# The hyper-parameters each rule reads besides the learning rate.
READS = {"gd": (), "momentum": ("momentum",), "nesterov": ("momentum",), "adagrad": ("eps",),
         "rmsprop": ("alpha", "eps"), "adadelta": ("rho", "eps"), "adam": ("beta1", "beta2", "eps"),
         "adamw": ("beta1", "beta2", "eps", "weight_decay")}
# PyTorch's defaults, except momentum (0 in torch: 0.9 is the value people use).
DEFAULTS = {"momentum": 0.9, "alpha": 0.99, "rho": 0.9, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01}
EPS = {"adagrad": 1e-10, "rmsprop": 1e-8, "adadelta": 1e-6, "adam": 1e-8, "adamw": 1e-8}


def hyper(name: str, lr: float, **given: float) -> dict:
    """The hyper-parameters rule `name` reads: `given` over PyTorch's defaults."""
    h = {"lr": lr, **{k: DEFAULTS.get(k) for k in READS[name] if k != "eps"}}
    if "eps" in READS[name]:
        h["eps"] = EPS[name]
    h.update({k: v for k, v in given.items() if k in READS[name]})
    return h


def torch_optimizer(name: str, params, h: dict):
    """torch.optim's optimizer for rule `name` with hyper-parameters `h` (the one factory)."""
    from nnkit.optim import make_optimizer

    torch_name = {"gd": "sgd", "momentum": "sgd", "nesterov": "sgd"}.get(name, name)
    options = {"momentum": h.get("momentum", 0.0), "nesterov": name == "nesterov",
               "weight_decay": h.get("weight_decay", 0.0), "eps": h.get("eps"), "alpha": h.get("alpha"),
               "rho": h.get("rho")}
    if "beta1" in h:
        options["betas"] = (h["beta1"], h["beta2"])
    return make_optimizer(torch_name, params, h["lr"], **options)


@dataclass
class Path:
    """One optimizer's way over a landscape: its points, loss and step length per step."""

    name: str
    points: list  # [(x, y)], the start first
    losses: list  # f at each point
    steps: list  # |w_t − w_(t−1)| for t ≥ 1
    outcome: str  # "finished" or "diverged" (left the plot far behind, or not finite)
    diverged_at: int | None = None  # the step at which it left


MARGIN = 10.0  # a path is diverged once it is this many box widths away from the box


def clip_norm(g: np.ndarray, max_norm: float) -> np.ndarray:
    """The gradient scaled down to norm `max_norm` when it is longer, as torch.nn.utils.clip_grad_norm_
    does (the same 1e-6 in the denominator; a shorter gradient is left as it is)."""
    return g * min(1.0, max_norm / (float(np.sqrt((g * g).sum())) + 1e-6))


def race(landscape: str, start: tuple[float, float], rules: dict[str, dict], steps: int,
         kappa: float = 10.0, max_norm: float | None = None) -> list[Path]:
    """Every rule in `rules` ({name: hyper-parameters}) takes `steps` steps from `start`; with
    `max_norm`, each gradient is first clipped to that norm (clip_norm)."""
    land = LANDSCAPES[landscape]
    x0, x1, y0, y1 = land.box
    span = max(x1 - x0, y1 - y0) * MARGIN
    out = []
    for name, h in rules.items():
        rule, state = RULES[name], {}
        w = np.array(start, dtype=float)
        points, losses, lengths = [tuple(w)], [float(land.f(w[0], w[1], kappa))], []
        outcome, at = "finished", None
        with np.errstate(all="ignore"):
            for t in range(1, steps + 1):
                g = np.array(land.grad(w[0], w[1], kappa), dtype=float)
                if max_norm is not None:
                    g = clip_norm(g, max_norm)
                new = rule(w, g, state, h)
                far = not (x0 - span <= new[0] <= x1 + span and y0 - span <= new[1] <= y1 + span)
                if not np.all(np.isfinite(new)) or far:
                    outcome, at = "diverged", t
                    break
                lengths.append(float(math.hypot(*(new - w))))
                w = new
                points.append((float(w[0]), float(w[1])))
                losses.append(float(land.f(w[0], w[1], kappa)))
        out.append(Path(name, points, losses, lengths, outcome, at))
    return out


def distance(path: Path, landscape: str, kappa: float = 10.0) -> float:
    """How far the path's last point is from the global minimum."""
    mx, my = LANDSCAPES[landscape].minimum(kappa)
    x, y = path.points[-1]
    return math.hypot(x - mx, y - my)
