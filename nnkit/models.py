"""Model builders shared by the experiments, and the decision-region grid of 2-D classifiers."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from nnkit.activations import ACTIVATIONS


INITS = ("default", "small", "large", "xavier", "kaiming")


def init_weights(model: nn.Module, init: str) -> None:
    """Re-initialise every nn.Linear of `model`, in order, with one of INITS.

    "default" keeps PyTorch's own: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), which is
    kaiming_uniform_(a=sqrt(5)) and not He initialisation (its variance is 1/(3 fan_in), He's is
    2/fan_in), and biases from the same range. The others set the biases to zero: "small" N(0, 0.01²),
    "large" N(0, 1), "xavier" xavier_uniform_ (Var 2/(fan_in+fan_out)), "kaiming" kaiming_normal_ for
    ReLU (Var 2/fan_in).
    """
    if init == "default":
        return
    draw = {"small": lambda w: nn.init.normal_(w, 0.0, 0.01), "large": lambda w: nn.init.normal_(w, 0.0, 1.0),
            "xavier": nn.init.xavier_uniform_,
            "kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")}[init]
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            draw(layer.weight)
            nn.init.zeros_(layer.bias)


class Residual(nn.Module):
    """y = x + F(x): the skip connection adds the identity to F's Jacobian (dy/dx = I + dF/dx), so the
    gradient has a path to the input that no layer shrinks."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.inner(x)


def mlp(in_features: int, hidden_sizes: list[int], out_features: int,
        activation: str = "relu", leaky_slope: float = 0.01,
        dropout: float | Sequence[float] = 0.0, init: str = "default", batch_norm: bool = False,
        residual: bool = False) -> nn.Sequential:
    """Linear -> activation (-> Dropout), once per hidden size, then a last Linear producing the logits.

    `dropout` is the drop probability after each hidden layer's activation, as `nn.Dropout(p)` takes
    it: one rate for every hidden layer or one per layer. A rate of 0 adds no module, so the layers
    of a network without dropout keep their indices (model[0] is the first Linear, model[2] the next).
    `init` re-initialises the Linear layers (`init_weights`); `batch_norm` puts nn.BatchNorm1d between
    each hidden Linear and its activation; with `residual`, a hidden layer whose input is as wide as
    its output becomes a `Residual` block (x + activation(Linear(x)), its BatchNorm inside).
    """
    rates = [float(dropout)] * len(hidden_sizes) if isinstance(dropout, (int, float)) else [float(r) for r in dropout]
    if len(rates) != len(hidden_sizes):
        raise ValueError(f"{len(rates)} dropout rates for {len(hidden_sizes)} hidden layers")
    layers: list[nn.Module] = []
    width = in_features
    for hidden, rate in zip(hidden_sizes, rates):
        block = [nn.Linear(width, hidden)] + ([nn.BatchNorm1d(hidden)] if batch_norm else []) + \
            [ACTIVATIONS[activation].module(leaky_slope)]
        layers += [Residual(nn.Sequential(*block))] if residual and width == hidden else block
        if rate > 0:
            layers.append(nn.Dropout(rate))
        width = hidden
    layers.append(nn.Linear(width, out_features))
    model = nn.Sequential(*layers)
    init_weights(model, init)
    return model


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
