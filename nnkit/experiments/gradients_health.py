"""The Gradients page's measuring sections: the product of derivatives along a chain, and the
gradient health of one deep MLP (per-layer gradient norms and activation statistics at its first
step, then while it trains).

Every network is `nnkit.models.mlp` on a toy 2-D set, trained by `fit` with plain SGD on the full
batch (one step per epoch): Adam would rescale each parameter's step and hide the very gradient
sizes this page is about. Measured (circles, 256 points, width 64, seed 0): a 20-layer sigmoid MLP
under PyTorch's default init has a first-layer gradient norm of 2.8e-19 against 0.73 at the last
layer, and its loss stays at 0.693 for 200 steps; a 10-layer ReLU MLP under the default init still
shrinks it 1e-5 / 9e-3, while with Kaiming init it is 0.027 / 0.062 and the loss falls to 0.001;
50 ReLU layers drawn from N(0, 1) overflow in the very first forward pass.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from nnkit.datasets.toy2d import make_toy2d
from nnkit.device import seeded
from nnkit.experiments.base import Guided, Section
from nnkit.experiments.gradients_export import export_code
from nnkit.gradients import chain, first_step, step_hook, verdict
from nnkit.models import mlp
from nnkit.train import fit

NOISE = 0.1  # the toy set's noise: the point is the gradients, not overfitting


def finite(value):
    """JSON-ready: a float that overflowed (inf, NaN) becomes None, in lists and dicts too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def data(p) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = make_toy2d(p.dataset, p.n_points, NOISE, p.seed)
    return torch.from_numpy(x), torch.from_numpy(y)


def build(p, activation: str, init: str, batch_norm: bool, residual: bool) -> nn.Module:
    with seeded(p.seed):
        return mlp(2, [p.width] * p.depth, 2, activation, init=init, batch_norm=batch_norm, residual=residual)


def measure(p, model: nn.Module, activation: str, train: tuple, clip: str = "none",
            callback: Callable[[dict], None] | None = None) -> dict:
    """The first step's norms and statistics, then `p.epochs` full-batch SGD steps (clipping as
    asked) with every step's loss and gradient norms; the statistics again at the end."""
    loss_fn = nn.CrossEntropyLoss()
    first = first_step(model, loss_fn, *train, activation)
    history: list[dict] = []

    def listen(event: dict) -> None:
        if event["event"] == "step":
            history.append({k: event[k] for k in ("epoch", "loss", "grad_norm", "grad_norm_clipped", "layer_norms")})
        if callback is not None:
            callback(event)

    optimizer = torch.optim.SGD(model.parameters(), lr=p.lr)
    result = fit(model, loss_fn, optimizer, train, epochs=p.epochs, callback=listen,
                 before_step=step_hook(clip, p.clip_threshold))
    after = first_step(model, loss_fn, *train, activation) if result.outcome == "completed" else None
    model.zero_grad()
    return {"first": first, "verdict": verdict(first["norms"]), "history": history, "outcome": result.outcome,
            "after": after}


def run_health(p, callback: Callable[[dict], None] | None = None) -> dict:
    model = build(p, p.activation, p.init, p.batch_norm, p.residual)
    net = measure(p, model, p.activation, data(p), callback=callback)
    return {"section": "health", "net": net, "stopped": net["outcome"] == "stopped"}


def net_summary(net: dict) -> dict:
    first, history = net["first"], net["history"]
    return finite({"verdict": net["verdict"], "overflow": first["overflow"], "first_loss": first["loss"],
                   "norms": first["norms"], "ratio": first["norms"][0] / first["norms"][-1]
                   if first["norms"][-1] and all(map(math.isfinite, first["norms"])) else float("nan"),
                   "stats": first["stats"], "outcome": net["outcome"], "steps": len(history),
                   "final_loss": history[-1]["loss"] if history else float("nan"),
                   "max_grad_norm": max((e["grad_norm"] for e in history), default=float("nan")),
                   "after_norms": net["after"]["norms"] if net["after"] else None})


def summary_health(result: dict) -> dict:
    return {"section": "health", "stopped": result["stopped"], **net_summary(result["net"])}


def run_chain(p, callback: Callable[[dict], None] | None = None) -> dict:
    return {"section": "chain", "chain": chain(p.activation, p.depth, p.chain_weight), "stopped": False}


def summary_chain(result: dict) -> dict:
    c = result["chain"]
    return {"section": "chain", "max_derivative": c["max_derivative"], "product": c["product"][-1],
            "bound": c["bound"][-1], "autograd": c["autograd"][-1], "local": c["local"]}


HEALTH = Section(
    settings=("dataset", "n_points", "depth", "width", "activation", "init", "batch_norm", "residual", "lr", "epochs"),
    run=run_health, summary=summary_health, shown=lambda result: [(None, result["net"])],
    epochs=lambda p: p.epochs, export=export_code,
    guided=(
        # measured (seed 0): first layer 2.8e-19, last 0.73; the loss stays at 0.693
        Guided("vanishing", {"section": "health", "activation": "sigmoid", "init": "default", "depth": 20},
               lambda s: s["verdict"] == "vanishing" and s["ratio"] <= 1e-4),
        # measured (seed 0): the loss and every gradient norm overflow in the first pass; nothing trains
        Guided("exploding", {"section": "health", "activation": "relu", "init": "large", "depth": 50},
               lambda s: s["verdict"] == "overflow" and "loss" in s["overflow"] and s["outcome"] == "diverged"),
        # measured (seed 0): first 4.6e-1, last 6.6e-1 with BN, against 2.8e-19 / 0.73 without
        Guided("bn_keeps", {"section": "health", "activation": "sigmoid", "init": "default", "depth": 20,
                            "batch_norm": "true"},
               lambda s: s["verdict"] == "healthy" and s["final_loss"] < 0.5 * s["first_loss"]),
    ))

CHAIN = Section(
    settings=("activation", "depth", "chain_weight"),
    run=run_chain, summary=summary_chain, shown=lambda result: [], epochs=lambda p: 0, export=export_code)
