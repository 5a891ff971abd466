"""The course's three elements of gradient descent (start point, gradient, learning rate) on the
1-D quadratic f(x) = a x² / 2: its gradient is a x, so one step multiplies x by (1 − η a). Four
learning rates show the four behaviours: too small (crawls), right, oscillating (1 < η a < 2)
and diverging (η a > 2)."""

from __future__ import annotations

from typing import Callable

from nnkit.experiments.base import Guided, Section, comments

STEPS = 30
# each rate as a share of the critical rate 2 / a, past which the steps grow
SHARES = {"too_small": 0.02, "right": 0.4, "oscillating": 0.9, "diverging": 1.05}


def rates(a: float) -> dict[str, float]:
    return {kind: share * 2 / a for kind, share in SHARES.items()}


def run_triad(p, callback: Callable[[dict], None] | None = None) -> dict:
    a = p.curvature
    paths = {}
    for kind, lr in rates(a).items():
        xs = [p.x0]
        for _ in range(STEPS):
            xs.append(xs[-1] - lr * a * xs[-1])  # x ← x − η f'(x), f'(x) = a x
        paths[kind] = {"lr": lr, "xs": xs, "losses": [a * x * x / 2 for x in xs]}
    return {"section": "triad", "curvature": a, "paths": paths, "stopped": False}


def summary_triad(result: dict) -> dict:
    return {"section": "triad", "curvature": result["curvature"],
            "rates": {kind: {"lr": path["lr"], "factor": 1 - path["lr"] * result["curvature"],
                             "final_x": path["xs"][-1], "final_loss": path["losses"][-1]}
                      for kind, path in result["paths"].items()}}


def shown_triad(result: dict) -> list:
    return []  # computed in a blink and drawn whole: nothing for the run history


COMMENTS = {
    "en": {"settings": "NN Playground - Optimizers (learning rate), exported with these settings:",
           "step": "x ← x − lr · f'(x): each step multiplies x by (1 − lr · a)"},
    "zh": {"settings": "NN Playground - 优化器(学习率),导出时的设置:",
           "step": "x ← x − lr · f'(x):每一步把 x 乘以 (1 − lr · a)"},
}

_SCRIPT = '''"""{c[settings]}
    curvature = {a!r}
    x0 = {x0!r}
"""
import torch

a = {a!r}
for name, lr in {rates!r}.items():
    x = torch.tensor({x0!r}, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=lr)
    for _ in range({steps}):
        optimizer.zero_grad()
        (a * x * x / 2).backward()
        optimizer.step()  # {c[step]}
    print(f"{{name}}: lr {{lr:.6g}}, final x {{x.item():.6g}}, final loss {{(a * x * x / 2).item():.6g}}")
'''


def export_triad(p, lang: str = "en") -> str:
    return _SCRIPT.format(c=comments(COMMENTS, lang), a=p.curvature, x0=p.x0, rates=rates(p.curvature), steps=STEPS)


GUIDED = (
    Guided("triad", {"section": "triad", "curvature": 2.0, "x0": 4.0},
           # past 2/a each step overshoots by more than it corrects; below it the sign flips but shrinks
           lambda s: abs(s["rates"]["diverging"]["final_x"]) > 4.0 > abs(s["rates"]["too_small"]["final_x"]) > 1.0
           > 1e-3 > abs(s["rates"]["right"]["final_x"]) and s["rates"]["oscillating"]["factor"] < 0),
)

TRIAD = Section(settings=("curvature", "x0"), run=run_triad, summary=summary_triad, shown=shown_triad,
                epochs=lambda p: 0, export=export_triad, guided=GUIDED)
