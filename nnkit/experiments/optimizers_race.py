"""The Optimizers page's race: the chosen update rules from one start point over one landscape,
each with its own learning rate, and its export (the same race as a self-contained PyTorch script:
autograd's gradient, the from-scratch update, and torch.optim beside it)."""

from __future__ import annotations

import inspect
import math
from typing import Callable

from nnkit import updates as U
from nnkit.experiments.base import Guided, Section, comments
from nnkit.landscapes import LANDSCAPES

# Each landscape as torch writes it (the export's loss; its numbers are tested against the page's).
FORMULAS = {
    "bowl": "0.5 * (x * x + {kappa!r} * y * y)",
    "rosenbrock": "(1 - x) ** 2 + 100 * (y - x * x) ** 2",
    "saddle": "x * x + y ** 4 / 4 - y * y",
    "minima": "0.1 * (x * x + y * y) + 1 - torch.cos(2 * x) * torch.cos(2 * y)",
    "cliff": "0.1 * ((x + 1) ** 2 + y * y) + 5 * torch.tanh(10 * x)",
}
SETTINGS = ("momentum", "alpha", "rho", "beta1", "beta2", "weight_decay")


def rules(p) -> dict[str, dict]:
    """{rule: its hyper-parameters} for every optimizer the race runs."""
    return {name: U.hyper(name, getattr(p, f"lr_{name}"), **{k: getattr(p, k) for k in SETTINGS})
            for name in p.optimizers}


def run_race(p, callback: Callable[[dict], None] | None = None) -> dict:
    paths = U.race(p.landscape, tuple(p.start), rules(p), p.steps, p.kappa, p.max_norm if p.clip else None)
    return {"section": "race", "landscape": p.landscape, "kappa": p.kappa, "paths": paths,
            "minimum": LANDSCAPES[p.landscape].minimum(p.kappa), "stopped": False}


def summary_race(result: dict) -> dict:
    land = result["landscape"]
    return {"section": "race", "landscape": land, "minimum": list(result["minimum"]),
            "optimizers": {path.name: {"final_loss": path.losses[-1],
                                       "distance": U.distance(path, land, result["kappa"]),
                                       "outcome": path.outcome, "diverged_at": path.diverged_at,
                                       "steps": len(path.steps), "end": list(path.points[-1]),
                                       "largest_step": max(path.steps, default=0.0)}
                           for path in result["paths"]}}


def shown_race(result: dict) -> list:
    out = []
    for path in result["paths"]:
        rows = [{"step": i, "loss": loss, **({"step_size": path.steps[i - 1]} if i else {})}
                for i, loss in enumerate(path.losses)]
        final = {"loss": path.losses[-1], "distance": U.distance(path, result["landscape"], result["kappa"])}
        out.append((path.name, rows, final, "diverged" if path.outcome == "diverged" else "completed"))
    return out


COMMENTS = {
    "en": {"settings": "NN Playground - Optimizers (race), exported with these settings:",
           "needs": "Needs torch and numpy.",
           "rules": "the update rules written from scratch (w: weights, g: gradient, s: the rule's state, h: settings)",
           "grad": "autograd computes the gradient of the landscape",
           "far": "a path that leaves the plot far behind (or overflows) is reported as diverged",
           "check": "torch.optim with the same settings takes the same steps",
           "clip": "None: no clipping; else each gradient is scaled down to this norm when longer"},
    "zh": {"settings": "NN Playground - 优化器(比赛),导出时的设置:",
           "needs": "需要 torch 和 numpy。",
           "rules": "从零写出的更新规则(w:权重,g:梯度,s:规则自己的状态,h:超参数)",
           "grad": "用自动求导计算地形的梯度",
           "far": "路径远远离开绘图区域(或溢出)就记为发散",
           "check": "同样设置的 torch.optim 走出同样的每一步",
           "clip": "None 表示不裁剪;否则梯度的范数超过这个值时按比例缩到这个值"},
}

_SCRIPT = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import math

import torch


def f(x, y):
    return {formula}


# {c[rules]}
{rules}

RULES = {{{table}}}
HYPER = {hyper!r}
START, STEPS, BOX, MARGIN = {start!r}, {steps!r}, {box!r}, {margin!r}
MAX_NORM = {max_norm!r}  # {c[clip]}
MINIMUM = {minimum!r}


def torch_optim(name, w, h):  # {c[check]}
    torch_name = {{"gd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop",
                  "adadelta": "Adadelta", "adam": "Adam", "adamw": "AdamW"}}[name]
    given = {{"momentum": h.get("momentum", 0.0), "nesterov": name == "nesterov"}} if torch_name == "SGD" else {{}}
    given.update({{k: h[k] for k in ("eps", "alpha", "rho", "weight_decay") if k in h}})
    if "beta1" in h:
        given["betas"] = (h["beta1"], h["beta2"])
    return getattr(torch.optim, torch_name)([w], lr=h["lr"], **given)


x0, x1, y0, y1 = BOX
span = max(x1 - x0, y1 - y0) * MARGIN
for name, h in HYPER.items():
    w = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    theirs = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = torch_optim(name, theirs, h)
    state, outcome, gap = {{}}, "finished", 0.0
    for t in range(1, STEPS + 1):
        loss = f(w[0], w[1])
        g, = torch.autograd.grad(loss, w)  # {c[grad]}
        if MAX_NORM is not None:
            g = g * min(1.0, MAX_NORM / (g.norm().item() + 1e-6))
        with torch.no_grad():
            new = RULES[name](w.detach(), g, state, h)
        # {c[far]}
        if not bool(torch.isfinite(new).all()) or not (x0 - span <= new[0] <= x1 + span and y0 - span <= new[1] <= y1 + span):
            outcome = f"diverged at step {{t}}"
            break
        w = new.clone().requires_grad_(True)
        optimizer.zero_grad()
        f(theirs[0], theirs[1]).backward()
        if MAX_NORM is not None:
            torch.nn.utils.clip_grad_norm_([theirs], MAX_NORM)
        optimizer.step()
        gap = max(gap, (w - theirs).abs().max().item())
    x, y = w.tolist()
    print(f"{{name}}: final loss {{f(w[0], w[1]).item():.6g}}, distance to the minimum "
          f"{{math.hypot(x - MINIMUM[0], y - MINIMUM[1]):.6g}}, {{outcome}}, largest gap to torch.optim {{gap:.1e}}")
'''


def export_race(p, lang: str = "en") -> str:
    from nnkit.experiments.optimizers import applies
    from nnkit.runs import settings_text

    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {v!r}" for k, v in settings_text(p, list(applies(p))).items())
    chosen = rules(p)
    sources = "\n\n\n".join(inspect.getsource(fn).strip() for fn in _functions(chosen))
    table = ", ".join(f"{n!r}: {U.RULES[n].__name__}" for n in chosen)
    land = LANDSCAPES[p.landscape]
    return _SCRIPT.format(c=c, settings=settings, formula=FORMULAS[p.landscape].format(kappa=p.kappa),
                          rules=sources, table=table, hyper=chosen, start=tuple(p.start), steps=p.steps,
                          box=land.box, margin=U.MARGIN, minimum=tuple(land.minimum(p.kappa)),
                          max_norm=p.max_norm if p.clip else None)


def _functions(chosen: dict) -> list:
    """The rule functions the script needs, each once (AdamW calls Adam)."""
    needed = [U.RULES[n] for n in chosen]
    if U.RULES["adamw"] in needed and U.RULES["adam"] not in needed:
        needed.insert(needed.index(U.RULES["adamw"]), U.RULES["adam"])
    return needed


def _finished(summary: dict, name: str) -> dict:
    return summary["optimizers"][name]


GUIDED = (
    Guided("ravine", {"section": "race", "landscape": "rosenbrock", "optimizers": ["gd", "momentum", "adam"],
                      "steps": 500},
           # in the ravine plain GD crawls; momentum's velocity and Adam's per-coordinate step get far closer
           lambda s: all(_finished(s, n)["distance"] < _finished(s, "gd")["distance"] / 2 for n in ("momentum", "adam"))),
    Guided("ill_conditioned", {"section": "race", "landscape": "bowl", "kappa": 100.0, "start": [-2.5, 1.5],
                               "optimizers": ["gd", "momentum"], "lr_gd": 0.019, "lr_momentum": 0.019,
                               "steps": 60},
           # the steep direction caps GD's rate below 2/κ; along the flat one it then barely moves, momentum gets there
           lambda s: _finished(s, "gd")["distance"] > 0.5 and _finished(s, "momentum")["distance"] < 0.1),
    Guided("too_fast", {"section": "race", "landscape": "rosenbrock", "optimizers": ["gd", "adam"], "lr_gd": 0.01,
                        "steps": 300},
           # ten times the preset throws GD off the plot within a few steps; Adam, at its own rate, finishes
           lambda s: _finished(s, "gd")["outcome"] == "diverged" and _finished(s, "adam")["outcome"] == "finished"),
    Guided("saddle", {"section": "race", "landscape": "saddle", "start": [-1.8, 0.001],
                      "optimizers": ["gd", "rmsprop", "adam"], "lr_gd": 0.01, "steps": 300},
           # the gradient along y is almost zero near the saddle: GD waits there, the adaptive rules leave it
           lambda s: _finished(s, "gd")["distance"] > 1.0 and all(_finished(s, n)["final_loss"] < -0.99
                                                                  for n in ("rmsprop", "adam"))),
)

RACE = Section(
    settings=("landscape", "kappa", "start", "optimizers", "steps", *(f"lr_{n}" for n in U.NAMES), *SETTINGS,
              "clip", "max_norm"),
    run=run_race, summary=summary_race, shown=shown_race, epochs=lambda p: 0, export=export_race, guided=GUIDED)
