"""Model builders shared by the experiments, and the decision-region grid of 2-D classifiers."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from nnkit.activations import ACTIVATIONS


def mlp(in_features: int, hidden_sizes: list[int], out_features: int,
        activation: str = "relu", leaky_slope: float = 0.01) -> nn.Sequential:
    """Linear -> activation, once per hidden size, then a last Linear producing the logits."""
    layers: list[nn.Module] = []
    width = in_features
    for hidden in hidden_sizes:
        layers += [nn.Linear(width, hidden), ACTIVATIONS[activation].module(leaky_slope)]
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
