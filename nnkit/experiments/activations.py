"""The Activations experiment: f and f', softmax with temperature, and why non-linearity matters.

A small MLP is trained on a 2-D set that no straight line separates, once with the chosen
activation and once with none; without one, the stacked Linear layers collapse into a single
linear map and the decision boundary can only be a straight line.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from nnkit.activations import ACTIVATIONS, CURVE_NAMES, Curve, curve, softmax
from nnkit.datasets.toy2d import TOY2D_NAMES, make_toy2d
from nnkit.device import pick_device, seeded
from nnkit.experiments.base import Experiment, Guided, comments, param
from nnkit.models import decision_region, mlp
from nnkit.optim import make_optimizer
from nnkit.train import evaluate, fit

CURVE_POINTS = 201
GRID = 60  # decision regions are drawn on a GRID x GRID lattice


@dataclass(frozen=True)
class ActivationsParams:
    functions: tuple = param(("sigmoid", "tanh", "relu"), "multi", choices=CURVE_NAMES, min_len=0, max_len=8)
    x_min: float = param(-6.0, "float", lo=-20.0, hi=-0.5, step=0.5)
    x_max: float = param(6.0, "float", lo=0.5, hi=20.0, step=0.5)
    leaky_slope: float = param(0.1, "float", lo=0.0, hi=0.5, step=0.01)
    logits: tuple = param((2.0, 1.0, 0.1, -1.0), "floats", lo=-50.0, hi=50.0, min_len=2, max_len=10)
    temperature: float = param(1.0, "float", lo=0.1, hi=10.0, step=0.1)
    dataset: str = param("circles", "choice", choices=TOY2D_NAMES)
    n_points: int = param(300, "int", lo=50, hi=1000, step=50)
    noise: float = param(0.1, "float", lo=0.0, hi=0.5, step=0.01)
    activation: str = param("relu", "choice", choices=CURVE_NAMES)
    hidden_size: int = param(16, "int", lo=2, hi=64, step=1)
    hidden_layers: int = param(1, "int", lo=1, hi=3, step=1)
    lr: float = param(0.03, "float", lo=0.0001, hi=1.0, log=True)
    epochs: int = param(300, "int", lo=10, hi=2000, step=10)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


@dataclass
class TrainedNet:
    activation: str
    outcome: str  # from fit: "completed", "stopped" or "diverged"
    accuracy: float
    loss: float
    history: list  # fit's epoch events
    region: dict  # {"x0", "x1", "p"}: P(class 1) on a grid over the points
    hidden: dict | None  # {"u", "v", "label"}: the last hidden layer's view, None without activation


def curves(p: ActivationsParams) -> list[Curve]:
    return [curve(name, p.x_min, p.x_max, CURVE_POINTS, p.leaky_slope) for name in p.functions]


def _hidden_view(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> dict:
    """The points as the output layer sees them, in 2-D, with its decision boundary at u = 0.

    u: signed distance to the output layer's boundary (logit of class 1 minus class 0, scaled);
    v: the main direction of what is left. In this plane the classes are split by a straight line.
    """
    with torch.no_grad():
        h = model[:-1](x).double()
        out = model[-1]
        w = (out.weight[1] - out.weight[0]).double()
        c = float(out.bias[1] - out.bias[0])
        norm = float(w.norm()) or 1.0
        u = (h @ w + c) / norm
        w_hat = w / norm
        rest = h - torch.outer(h @ w_hat, w_hat)
        rest = rest - rest.mean(dim=0)
        _, _, vh = torch.linalg.svd(rest, full_matrices=False)
        v = rest @ vh[0]
    return {"u": u.cpu().numpy(), "v": v.cpu().numpy(), "label": y.cpu().numpy()}


def train_nonlinearity(p: ActivationsParams, callback: Callable[[dict], None] | None = None) -> dict:
    """Train the same MLP with p.activation and with none; report progress through `callback`."""
    x_np, y_np = make_toy2d(p.dataset, p.n_points, p.noise, p.seed)
    device = pick_device().device
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)
    loss_fn = nn.CrossEntropyLoss()
    nets = {}
    for role, activation in (("with", p.activation), ("without", "none")):
        with seeded(p.seed):  # both nets start from the same weights
            model = mlp(2, [p.hidden_size] * p.hidden_layers, 2, activation, p.leaky_slope)
        model = model.to(device)
        optimizer = make_optimizer("adam", model.parameters(), p.lr)
        tag = (lambda e, role=role: callback({**e, "run": role, "epochs": p.epochs})) if callback else None
        result = fit(model, loss_fn, optimizer, (x, y), epochs=p.epochs, callback=tag)
        final = evaluate(model, loss_fn, (x, y)) if result.outcome != "diverged" else {"loss": float("nan"), "acc": float("nan")}
        nets[role] = TrainedNet(activation, result.outcome, final["acc"], final["loss"], result.epochs,
                                decision_region(lambda g: torch.softmax(model(g), dim=1)[:, 1], x, GRID)
                                if result.outcome != "diverged" else None,
                                _hidden_view(model, x, y) if role == "with" and result.outcome != "diverged" else None)
        if result.outcome == "stopped":
            break
    return {"points": {"x0": x_np[:, 0], "x1": x_np[:, 1], "label": y_np}, "nets": nets}


def run(p: ActivationsParams, callback: Callable[[dict], None] | None = None) -> dict:
    return {"curves": curves(p), "softmax": softmax(list(p.logits), p.temperature),
            "training": train_nonlinearity(p, callback)}


def curve_summary(c: Curve) -> dict:
    return {"f_at_0": c.f_at_0, "df_at_0": c.df_at_0, "saturated_share": float(np.mean(np.abs(c.df) < 0.01))}


def summary(result: dict) -> dict:
    nets = result["training"]["nets"]
    return {
        "curves": {c.name: curve_summary(c) for c in result["curves"]},
        "softmax": [float(v) for v in result["softmax"]],
        "training": {role: {"activation": n.activation, "outcome": n.outcome,
                            "accuracy": n.accuracy, "loss": n.loss} for role, n in nets.items()},
    }


_EXPORT = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import numpy as np
import torch
from torch import nn

SEED = {seed}
device = "cuda" if torch.cuda.is_available() else "cpu"

# {c[curves]}
functions = {{{functions}}}
x = torch.linspace({x_min!r}, {x_max!r}, {points}, dtype=torch.float64, requires_grad=True)
zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)  # {c[zero]}
curves = {{}}
for name, f in functions.items():
    y = f(x)
    (dy,) = torch.autograd.grad(y.sum(), x)  # {c[grad]}
    curves[name] = (y.detach().numpy(), dy.numpy())
    y0 = f(zero)
    (dy0,) = torch.autograd.grad(y0.sum(), zero)
    print(f"{{name}}: f(0) = {{y0.item():.6f}}, f'(0) = {{dy0.item():.6f}}, "
          f"saturated share = {{(dy.abs() < 0.01).double().mean().item():.6f}}")

# {c[softmax]}
logits = torch.tensor({logits!r}, dtype=torch.float64)
probs = torch.softmax(logits / {temperature!r}, dim=0)
print("softmax:", ", ".join(f"{{v:.6f}}" for v in probs.tolist()), "sum =", round(probs.sum().item(), 6))


# {c[why]}
{make_toy2d}

x_np, y_np = make_toy2d({dataset!r}, {n_points}, {noise!r}, SEED)
X, Y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)


def build(activation):
    layers, width = [], 2
    for _ in range({hidden_layers}):
        layers += [nn.Linear(width, {hidden_size}), activation]
        width = {hidden_size}
    layers.append(nn.Linear(width, 2))
    return nn.Sequential(*layers)


for role, activation in [("with", {layer}), ("without", nn.Identity())]:
    torch.manual_seed(SEED)  # {c[same_start]}
    model = build(activation).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr={lr!r}, fused=True)  # {c[fused]}
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range({epochs}):  # {c[full_batch]}
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        if not torch.isfinite(loss):
            print(f"{{role}}: diverged at epoch {{epoch}}")
            break
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(X)
        print(f"{{role}} ({{activation}}): accuracy = {{(out.argmax(1) == Y).double().mean().item():.6f}}, "
              f"loss = {{loss_fn(out, Y).item():.6f}}")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10, 4))
    xs = x.detach().numpy()
    for name, (f_values, df_values) in curves.items():
        ax_f.plot(xs, f_values, label=name)
        ax_df.plot(xs, df_values, label=name)
    ax_f.set_title("f(x)"), ax_df.set_title("f'(x)"), ax_f.legend()
    fig.savefig("activations.png")
    print("saved activations.png")
'''


COMMENTS = {
    "en": {
        "settings": "NN Playground - Activations, exported with these settings:",
        "needs": "Needs torch and numpy; matplotlib (optional) saves the curves to activations.png.",
        "curves": "1. Activation functions and their derivatives, by autograd",
        "zero": "0 itself: it need not be on the grid",
        "grad": "f'(x_i), since y_i depends on x_i alone",
        "softmax": "2. Softmax with temperature: probabilities that sum to 1",
        "why": "3. Why non-linearity: the same MLP with and without an activation",
        "same_start": "both nets start from the same weights",
        "fused": "one kernel per step (torch >= 2.4)",
        "full_batch": "full-batch gradient descent",
    },
    "zh": {
        "settings": "NN Playground - 激活函数,导出时的设置:",
        "needs": "需要 torch 和 numpy;装了 matplotlib(可选)时会把曲线保存到 activations.png。",
        "curves": "1. 激活函数及其导数(由自动求导得到)",
        "zero": "0 本身:它不一定在网格上",
        "grad": "f'(x_i),因为 y_i 只依赖于 x_i",
        "softmax": "2. 带温度的 softmax:总和为 1 的概率",
        "why": "3. 为什么需要非线性:同一个 MLP,有激活函数和没有激活函数",
        "same_start": "两个网络从相同的权重出发",
        "fused": "每步只启动一个内核(torch >= 2.4)",
        "full_batch": "全批量梯度下降",
    },
}


def export_code(p: ActivationsParams, lang: str = "en") -> str:
    # the LeakyReLU slope only where a LeakyReLU is drawn or trained
    leaky = "leaky_relu" in p.functions or p.activation == "leaky_relu"
    settings = "\n".join(f"    {k} = {v!r}" for k, v in asdict(p).items() if k != "leaky_slope" or leaky)
    functions = ", ".join(f'"{n}": {ACTIVATIONS[n].code.format(slope=p.leaky_slope)}' for n in p.functions)
    return _EXPORT.format(
        c=comments(COMMENTS, lang), settings=settings, seed=p.seed, functions=functions, x_min=p.x_min, x_max=p.x_max,
        points=CURVE_POINTS, logits=list(p.logits), temperature=p.temperature,
        make_toy2d=inspect.getsource(make_toy2d).strip(), dataset=p.dataset, n_points=p.n_points,
        noise=p.noise, hidden_layers=p.hidden_layers, hidden_size=p.hidden_size,
        layer=ACTIVATIONS[p.activation].code.format(slope=p.leaky_slope), lr=p.lr, epochs=p.epochs)


TRAINING_SETTINGS = ("dataset", "n_points", "noise", "activation", "leaky_slope", "hidden_size", "hidden_layers",
                     "lr", "epochs", "seed")


def training_record(p: ActivationsParams, training: dict):
    """The "why non-linearity" training as a run record: loss and accuracy per epoch, with and
    without the activation."""
    from nnkit.runs import RunRecord, settings_text

    nets = training["nets"]
    rows = {}
    for role, net in nets.items():
        suffix = "" if role == "with" else "_without"
        for e in net.history:
            row = rows.setdefault(e["epoch"], {"epoch": e["epoch"] + 1})
            row["loss" + suffix], row["acc" + suffix] = e["train_loss"], e["train_acc"]
    outcomes = [net.outcome for net in nets.values()]
    outcome = next((o for o in ("diverged", "stopped") if o in outcomes), "completed")
    final = {}
    for role, net in nets.items():
        suffix = "" if role == "with" else "_without"
        final["accuracy" + suffix], final["loss" + suffix] = net.accuracy, net.loss
    names = [n for n in TRAINING_SETTINGS if n != "leaky_slope" or p.activation == "leaky_relu"]
    return RunRecord("activations", settings_text(p, names), list(rows.values()), final, outcome, "epoch")


def _accuracy(s: dict, role: str) -> float:
    return s["training"][role]["accuracy"]


GUIDED = (
    # measured: ReLU 100% on the circles, no activation 56% (half the points are each class)
    Guided("no_activation", {"dataset": "circles", "activation": "relu"},
           lambda s: _accuracy(s, "with") >= 0.99 and _accuracy(s, "without") <= 0.7),
    # measured: 87% without an activation (a line gets most of the moons right), 100% with ReLU
    Guided("moons_line", {"dataset": "moons", "activation": "relu"},
           lambda s: 0.75 <= _accuracy(s, "without") <= 0.95 and _accuracy(s, "with") >= 0.99),
    # on [-10, 10] sigmoid's slope is below 0.01 over 55% of the range; LeakyReLU's never is
    Guided("sigmoid_saturates", {"functions": "sigmoid,leaky_relu", "x_min": -10.0, "x_max": 10.0},
           lambda s: s["curves"]["sigmoid"]["saturated_share"] > 0.5 and s["curves"]["sigmoid"]["df_at_0"] == 0.25
           and s["curves"]["leaky_relu"]["saturated_share"] == 0.0),
    # T = 10 on the default logits: 0.288 down to 0.213, still in the same order
    Guided("high_temperature", {"temperature": 10.0},
           lambda s: max(s["softmax"]) - min(s["softmax"]) < 0.1 and s["softmax"] == sorted(s["softmax"], reverse=True)),
    # T = 0.1: the largest logit takes 0.99995 of the mass
    Guided("low_temperature", {"temperature": 0.1}, lambda s: s["softmax"][0] > 0.99),
)

EXPERIMENT = Experiment("activations", ActivationsParams, run, summary, export_code, guided=GUIDED,
                        record=lambda p, result: training_record(p, result["training"]))
