"""Gradients of deep networks, measured: per-layer gradient norms, activation statistics, the
product of local derivatives along a chain, and the step hooks that clip gradients.

Every number is read from PyTorch itself (the `.grad` that `backward()` leaves, the outputs forward
hooks see); clipping is torch.nn.utils's own, placed between backward() and step() through
`fit(before_step=...)`.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from nnkit.activations import ACTIVATIONS

CLIPS = ("none", "norm", "value")
# the largest |f'(z)| of each activation: sigmoid' = s(1 - s) peaks at z = 0 with 1/4
MAX_DERIVATIVE = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}
SATURATED = 0.95  # a sigmoid output beyond 0.05..0.95 (or |tanh| beyond 0.95)
FLAT_SLOPE = 0.2  # ...where the derivative is under this share of its peak (sigmoid 0.0475/0.25 = 0.19, tanh 0.0975)
VANISHING, EXPLODING = 1e-2, 1e2  # first-layer norm / last-layer norm beyond these: the verdict names it
TOO_LARGE = 1e4  # a gradient norm above this (with an O(1) loss) is exploding whatever the ratio


def linears(model: nn.Module) -> list[nn.Linear]:
    """The network's Linear layers, input to output."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def layer_grad_norms(model: nn.Module) -> list[float]:
    """‖∂L/∂W‖ (Frobenius) of each Linear layer's weight, as backward() left it in `.grad`."""
    return [float(layer.weight.grad.norm()) for layer in linears(model)]


def total_norm(model: nn.Module) -> float:
    """The norm of all gradients as one vector, the number clip_grad_norm_ compares to its threshold."""
    return float(torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None]))


def step_hook(clip: str = "none", threshold: float = 1.0) -> Callable[[nn.Module], dict]:
    """fit's `before_step`: read every layer's gradient norm and the total norm, then clip (by norm:
    clip_grad_norm_, g <- g * min(1, c/‖g‖); by value: clip_grad_value_, clamp(g, -c, c)), and read
    the total norm again. The step event gets "layer_norms", "grad_norm" and "grad_norm_clipped"."""
    if clip not in CLIPS:
        raise ValueError(f"unknown clipping {clip!r}")

    def before_step(model: nn.Module) -> dict:
        read = {"layer_norms": layer_grad_norms(model), "grad_norm": total_norm(model)}
        if clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), threshold)
        elif clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), threshold)
        read["grad_norm_clipped"] = total_norm(model) if clip != "none" else read["grad_norm"]
        return read

    return before_step


def _flat(activation: str, out: torch.Tensor) -> torch.Tensor:
    """Where the activation passes (almost) no gradient: saturated sigmoid/tanh, ReLU at zero."""
    if activation == "sigmoid":
        return (out < 1 - SATURATED) | (out > SATURATED)
    if activation == "tanh":
        return out.abs() > SATURATED
    return out <= 0


def activation_stats(outputs: list[torch.Tensor], activation: str) -> list[dict]:
    """Per hidden layer: the mean and spread of its activations, the share of them that pass almost
    no gradient (saturated, or zero for ReLU), and the share of units flat for every sample (dead)."""
    stats = []
    for out in outputs:
        flat = _flat(activation, out)
        stats.append({"mean": float(out.mean()), "std": float(out.std()) if out.numel() > 1 else 0.0,
                      "flat": float(flat.float().mean()), "dead": float(flat.all(dim=0).float().mean())})
    return stats


def first_step(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor, activation: str) -> dict:
    """One forward and backward pass (no step): the loss, each Linear's gradient norm (input to
    output) and each hidden layer's activation statistics. Gradients are zeroed first and left in
    `.grad`. A loss, activation or norm that overflowed is reported in "overflow", never raised."""
    kind = type(ACTIVATIONS[activation].module(0.01))
    outputs: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach()))
             for m in model.modules() if isinstance(m, kind)]
    model.zero_grad()
    try:
        loss = loss_fn(model(x), y)
    finally:
        for hook in hooks:
            hook.remove()
    loss.backward()
    norms = layer_grad_norms(model)
    overflow = [name for name, bad in (("activations", any(not torch.isfinite(o).all() for o in outputs)),
                                       ("loss", not math.isfinite(loss.item())),
                                       ("gradients", any(not math.isfinite(n) for n in norms))) if bad]
    return {"loss": loss.item(), "norms": norms, "stats": activation_stats(outputs, activation),
            "overflow": overflow}


def verdict(norms: list[float]) -> str:
    """"overflow", "exploding", "vanishing" or "healthy", from the first and last layers' norms."""
    if not norms or any(not math.isfinite(n) for n in norms):
        return "overflow"
    first, last = norms[0], norms[-1]
    if max(norms) > TOO_LARGE or (last > 0 and first / last > EXPLODING):
        return "exploding"
    if first == 0 or (last > 0 and first / last < VANISHING):
        return "vanishing"
    return "healthy"


def chain(activation: str, depth: int, weight: float, x0: float = 1.0) -> dict:
    """A chain of `depth` one-unit layers h_l = f(w h_(l-1)) from h_0 = x0, in float64.

    dh_L/dh_0 = Π w f'(z_l): "local" holds each factor w f'(z_l), "product" the running product,
    "autograd" the derivative PyTorch computes for the first l layers, "bound" (w max f')^l."""
    f = ACTIVATIONS[activation].module(0.01)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    h, local, autograd = x, [], []
    for _ in range(depth):
        z = weight * h
        h = f(z)
        (slope,) = torch.autograd.grad(h, z, retain_graph=True)
        local.append(weight * float(slope))
        (total,) = torch.autograd.grad(h, x, retain_graph=True)
        autograd.append(float(total))
    product = []
    running = 1.0
    for factor in local:
        running *= factor
        product.append(running)
    top = abs(weight) * MAX_DERIVATIVE[activation]
    return {"local": local, "product": product, "autograd": autograd,
            "bound": [top ** (i + 1) for i in range(depth)], "max_derivative": MAX_DERIVATIVE[activation]}
