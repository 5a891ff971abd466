"""Model builders shared by the experiments."""

from __future__ import annotations

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
