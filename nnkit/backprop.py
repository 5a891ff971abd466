"""Backpropagation by hand on a 2-2-1 network, one step at a time, in float64.

x = (x1, x2) -> z_j = w_j1 x1 + w_j2 x2 + b_j -> h_j = f(z_j) (j = 1, 2) -> o = v1 h1 + v2 h2 + c,
then the loss: "squared" (o - y)^2 as nn.MSELoss computes it, or "binary" the binary cross-entropy of
sigmoid(o) as nn.BCEWithLogitsLoss computes it. `steps` lists the forward pass (each node's value),
the backward pass (each local derivative times the gradient arriving, the chain rule written out)
and the update, each with the formula that made it; `autograd` computes the same gradients with
PyTorch, so a test holds the two together to 1e-10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

LOSSES = ("squared", "binary")
HAND_ACTIVATIONS = ("sigmoid", "tanh", "relu")
PARAMS = ("w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c")  # the order of `weights`


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


# f(z) and f'(z) written out, with the derivative's formula as the page shows it
FUNCTIONS = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z)), "σ(z)(1 − σ(z))"),
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2, "1 − tanh²(z)"),
    "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0, "1 if z > 0 else 0"),
}


def _n(value: float) -> str:
    """A number inside a formula: a negative one in parentheses, so that 0.1·(-2) reads as a product."""
    return f"({value:.4g})" if value < 0 else f"{value:.4g}"


@dataclass(frozen=True)
class Step:
    phase: str  # "forward", "backward" or "update"
    node: str  # the quantity it computes: "z1", "dL/dv1", "v1'"...
    formula: str  # how, with the numbers put in
    value: float


def loss_and_slope(loss: str, o: float, y: float) -> tuple[float, float, str]:
    """The loss, dL/do and dL/do's formula."""
    if loss == "squared":
        return (o - y) ** 2, 2 * (o - y), "2(o − y)"
    # log(1 + e^o) - y o, written so that neither exp overflows
    value = max(o, 0.0) + math.log1p(math.exp(-abs(o))) - y * o
    return value, _sigmoid(o) - y, "σ(o) − y"


def steps(x: tuple[float, float], y: float, weights: tuple[float, ...], activation: str, loss: str,
          lr: float) -> list[Step]:
    """Every value of one forward pass, one backward pass and one SGD update, in the order computed."""
    f, df, df_text = FUNCTIONS[activation]
    w = dict(zip(PARAMS, map(float, weights)))
    x1, x2 = map(float, x)
    out: list[Step] = []
    z, h = {}, {}
    for j in (1, 2):
        z[j] = w[f"w{j}1"] * x1 + w[f"w{j}2"] * x2 + w[f"b{j}"]
        out.append(Step("forward", f"z{j}", f"w{j}1·x1 + w{j}2·x2 + b{j} = {_n(w[f'w{j}1'])}·{_n(x1)} + "
                        f"{_n(w[f'w{j}2'])}·{_n(x2)} + {_n(w[f'b{j}'])}", z[j]))
    for j in (1, 2):
        h[j] = f(z[j])
        out.append(Step("forward", f"h{j}", f"{activation}(z{j}) = {activation}({_n(z[j])})", h[j]))
    o = w["v1"] * h[1] + w["v2"] * h[2] + w["c"]
    out.append(Step("forward", "o", f"v1·h1 + v2·h2 + c = {_n(w['v1'])}·{_n(h[1])} + {_n(w['v2'])}·{_n(h[2])} + "
                    f"{_n(w['c'])}", o))
    value, d_o, d_o_text = loss_and_slope(loss, o, float(y))
    loss_text = "(o − y)²" if loss == "squared" else "−[y·log σ(o) + (1 − y)·log(1 − σ(o))]"
    out.append(Step("forward", "L", f"{loss_text}, o = {_n(o)}, y = {_n(float(y))}", value))

    grads = {}
    out.append(Step("backward", "dL/do", f"{d_o_text} = {_n(d_o)}", d_o))
    for j in (1, 2):
        grads[f"v{j}"] = d_o * h[j]
        out.append(Step("backward", f"dL/dv{j}", f"dL/do · h{j} = {_n(d_o)}·{_n(h[j])}", grads[f"v{j}"]))
    grads["c"] = d_o
    out.append(Step("backward", "dL/dc", f"dL/do · 1 = {_n(d_o)}", d_o))
    d_z = {}
    for j in (1, 2):
        d_h = d_o * w[f"v{j}"]
        out.append(Step("backward", f"dL/dh{j}", f"dL/do · v{j} = {_n(d_o)}·{_n(w[f'v{j}'])}", d_h))
        slope = df(z[j])
        d_z[j] = d_h * slope
        out.append(Step("backward", f"dL/dz{j}", f"dL/dh{j} · f'(z{j}), f'(z) = {df_text}: {_n(d_h)}·{_n(slope)}",
                        d_z[j]))
    for j in (1, 2):
        for i, xi in ((1, x1), (2, x2)):
            grads[f"w{j}{i}"] = d_z[j] * xi
            out.append(Step("backward", f"dL/dw{j}{i}", f"dL/dz{j} · x{i} = {_n(d_z[j])}·{_n(xi)}",
                            grads[f"w{j}{i}"]))
        grads[f"b{j}"] = d_z[j]
        out.append(Step("backward", f"dL/db{j}", f"dL/dz{j} · 1 = {_n(d_z[j])}", d_z[j]))
    for name in PARAMS:
        new = w[name] - lr * grads[name]
        formula = f"{name} − lr·dL/d{name} = {_n(w[name])} − {_n(lr)}·{_n(grads[name])}"
        out.append(Step("update", f"{name}'", formula, new))
    return out


def hand_gradients(all_steps: list[Step]) -> dict[str, float]:
    """{parameter: dL/dparameter} as the backward steps computed them."""
    return {s.node[4:]: s.value for s in all_steps if s.phase == "backward" and s.node[4:] in PARAMS}


def autograd(x: tuple[float, float], y: float, weights: tuple[float, ...], activation: str,
             loss: str) -> tuple[float, dict[str, float]]:
    """The loss and every parameter's gradient, as PyTorch computes them (float64)."""
    t = {name: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for name, v in zip(PARAMS, weights)}
    xs = torch.tensor([float(v) for v in x], dtype=torch.float64)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    h1 = act(t["w11"] * xs[0] + t["w12"] * xs[1] + t["b1"])
    h2 = act(t["w21"] * xs[0] + t["w22"] * xs[1] + t["b2"])
    o = (t["v1"] * h1 + t["v2"] * h2 + t["c"]).reshape(1)
    target = torch.tensor([float(y)], dtype=torch.float64)
    value = torch.nn.MSELoss()(o, target) if loss == "squared" else torch.nn.BCEWithLogitsLoss()(o, target)
    value.backward()
    return value.item(), {name: float(p.grad) for name, p in t.items()}
