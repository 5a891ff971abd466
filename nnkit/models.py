"""Model builders shared by the experiments, and the decision-region grid of 2-D classifiers."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from nnkit.activations import ACTIVATIONS


def mlp(in_features: int, hidden_sizes: list[int], out_features: int,
        activation: str = "relu", leaky_slope: float = 0.01,
        dropout: float | Sequence[float] = 0.0) -> nn.Sequential:
    """Linear -> activation (-> Dropout), once per hidden size, then a last Linear producing the logits.

    `dropout` is the drop probability after each hidden layer's activation, as `nn.Dropout(p)` takes
    it: one rate for every hidden layer or one per layer. A rate of 0 adds no module, so the layers
    of a network without dropout keep their indices (model[0] is the first Linear, model[2] the next).
    """
    rates = [float(dropout)] * len(hidden_sizes) if isinstance(dropout, (int, float)) else [float(r) for r in dropout]
    if len(rates) != len(hidden_sizes):
        raise ValueError(f"{len(rates)} dropout rates for {len(hidden_sizes)} hidden layers")
    layers: list[nn.Module] = []
    width = in_features
    for hidden, rate in zip(hidden_sizes, rates):
        layers += [nn.Linear(width, hidden), ACTIVATIONS[activation].module(leaky_slope)]
        if rate > 0:
            layers.append(nn.Dropout(rate))
        width = hidden
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def decision_region(probability: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, size: int = 60,
                    margin: float = 0.3) -> dict:
    """P(class 1) on a size x size grid covering the points x (n, 2), as NumPy for a heatmap."""
    lo, hi = x.min(dim=0).values - margin, x.max(dim=0).values + margin
    grid = torch.cartesian_prod(torch.linspace(float(lo[0]), float(hi[0]), size, device=x.device),
                                torch.linspace(float(lo[1]), float(hi[1]), size, device=x.device))
    with torch.no_grad():
        p = probability(grid)
    grid = grid.cpu().numpy()
    return {"x0": grid[:, 0], "x1": grid[:, 1], "p": p.cpu().numpy()}
