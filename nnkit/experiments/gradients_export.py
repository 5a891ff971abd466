"""The Gradients experiment as a self-contained PyTorch script, one per section.

The script draws the same points (make_toy2d's own source), builds each network from the same seed
with the same layers in the same order, reads every Linear layer's gradient norm after the first
backward(), and trains by full-batch SGD with the clipping between backward() and step(), so it
prints the numbers the page shows (tests/test_nnkit_gradients.py). Comments follow the page's
language (`COMMENTS`); what it prints stays in English.
"""

from __future__ import annotations

import inspect

from nnkit.datasets.toy2d import make_toy2d
from nnkit.experiments.base import comments

COMMENTS = {
    "en": {
        "settings": "NN Playground - Gradients ({section}), exported with these settings:",
        "needs": "Needs torch and numpy.",
        "default": "PyTorch's default nn.Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), is kept as it is: "
                   "it is kaiming_uniform_(a=sqrt(5)), not He init",
        "residual": "y = x + F(x): the skip adds the identity to the Jacobian",
        "norms": "after backward(), each layer's gradient sits in .grad",
        "between": "between backward() and step(): the only place to clip (or read) the gradients",
        "overflow": "a loss that overflowed (inf or NaN) ends training: it can never come back",
        "chain": "h_l = f(w * h_(l-1)): autograd multiplies the local derivatives w * f'(z_l)",
        "hand": "autograd: the same chain rule the page writes out by hand",
    },
    "zh": {
        "settings": "NN Playground - 梯度({section}),导出时的设置:",
        "needs": "需要 torch 和 numpy。",
        "default": "保留 PyTorch 默认的 nn.Linear 初始化 U(-1/sqrt(fan_in), 1/sqrt(fan_in)):"
                   "它是 kaiming_uniform_(a=sqrt(5)),并不是 He 初始化",
        "residual": "y = x + F(x):跨层连接给雅可比矩阵加上了单位矩阵",
        "norms": "backward() 之后,每层的梯度都在 .grad 里",
        "between": "在 backward() 和 step() 之间:这是裁剪(或读取)梯度的唯一位置",
        "overflow": "损失溢出(inf 或 NaN)就结束训练:它再也回不来了",
        "chain": "h_l = f(w * h_(l-1)):自动求导把局部导数 w * f'(z_l) 连乘起来",
        "hand": "自动求导:和页面上手算的是同一条链式法则",
    },
}

_HEAD = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import math

import numpy as np
import torch
from torch import nn

SEED = {seed}
'''

_NETWORK = '''LR = {lr!r}
EPOCHS = {epochs}
DEPTH = {depth}
WIDTH = {width}
ACTIVATIONS = {{"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}}
INITS = {{"small": lambda w: nn.init.normal_(w, 0.0, 0.01), "large": lambda w: nn.init.normal_(w, 0.0, 1.0),
         "xavier": nn.init.xavier_uniform_, "kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")}}


{make_toy2d}


x_np, y_np = make_toy2d({dataset!r}, {n_points}, {noise!r}, SEED)
X, Y = torch.from_numpy(x_np), torch.from_numpy(y_np)
loss_fn = nn.CrossEntropyLoss()


class Residual(nn.Module):  # {c[residual]}
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return x + self.inner(x)


def build(activation, init, batch_norm, residual):
    torch.manual_seed(SEED)
    layers, width = [], 2
    for _ in range(DEPTH):
        norm = [nn.BatchNorm1d(WIDTH)] if batch_norm else []
        block = [nn.Linear(width, WIDTH)] + norm + [ACTIVATIONS[activation]()]
        layers += [Residual(nn.Sequential(*block))] if residual and width == WIDTH else block
        width = WIDTH
    layers.append(nn.Linear(width, 2))
    model = nn.Sequential(*layers)
    if init != "default":  # {c[default]}
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                INITS[init](layer.weight)
                nn.init.zeros_(layer.bias)
    return model


def train(name, activation, init, batch_norm, residual, clip, threshold):
    model = build(activation, init, batch_norm, residual)
    model.zero_grad()
    loss_fn(model(X), Y).backward()
    # {c[norms]}
    norms = [layer.weight.grad.norm().item() for layer in model.modules() if isinstance(layer, nn.Linear)]
    print(f"{{name}}: gradient norm per layer, input to output:", ", ".join(f"{{n:.6e}}" for n in norms))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    for step in range(EPOCHS):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        if not math.isfinite(loss.item()):  # {c[overflow]}
            print(f"{{name}}: diverged at step {{step + 1}}")
            return
        loss.backward()
        # {c[between]}
        if clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), threshold)
        elif clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), threshold)
        optimizer.step()
        last = loss.item()
    print(f"{{name}}: loss at the last step = {{last:.6f}}")


'''

_CHAIN = '''DEPTH = {depth}
W = {weight!r}
f = nn.{module}()

# {c[chain]}
x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
h = x
for _ in range(DEPTH):
    h = f(W * h)
h.backward()
print(f"dh_L/dh_0 = {{x.grad.item():.6e}}; bound (|w| * {bound!r}) ** L = {{(abs(W) * {bound!r}) ** DEPTH:.6e}}")
'''


def _call(name: str, setup: dict, threshold: float) -> str:
    return (f"train({name!r}, {setup['activation']!r}, {setup['init']!r}, {setup['batch_norm']}, "
            f"{setup['residual']}, {setup['clip']!r}, {threshold!r})\n")


def export_code(p, lang: str = "en") -> str:
    from nnkit.experiments.gradients import applies
    from nnkit.experiments.gradients_fixes import broken_network, fixed_network
    from nnkit.experiments.gradients_health import NOISE
    from nnkit.gradients import MAX_DERIVATIVE

    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    head = _HEAD.format(c={**c, "settings": c["settings"].format(section=p.section)}, settings=settings, seed=p.seed)
    if p.section == "chain":
        module = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}[p.activation]
        return head + _CHAIN.format(c=c, depth=p.depth, weight=p.chain_weight, module=module,
                                    bound=MAX_DERIVATIVE[p.activation])
    body = _NETWORK.format(c=c, lr=p.lr, epochs=p.epochs, depth=p.depth, width=p.width, dataset=p.dataset,
                           n_points=p.n_points, noise=NOISE, make_toy2d=inspect.getsource(make_toy2d).strip())
    if p.section == "health":
        setup = {"activation": p.activation, "init": p.init, "batch_norm": p.batch_norm, "residual": p.residual,
                 "clip": "none"}
        return head + body + _call("network", setup, p.clip_threshold)
    return head + body + _call("broken", broken_network(p), p.clip_threshold) + \
        _call("fixed", fixed_network(p), p.clip_threshold)
