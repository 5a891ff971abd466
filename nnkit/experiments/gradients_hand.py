"""The Gradients page's by-hand section: one forward pass, one backward pass and one SGD update of a
2-2-1 network, every value written out with its formula (nnkit.backprop), beside the gradients
PyTorch's autograd computes for the same numbers. Nothing trains: it is computed in a blink."""

from __future__ import annotations

from typing import Callable

from nnkit import backprop as B
from nnkit.experiments.base import Section, comments
from nnkit.experiments.gradients_export import COMMENTS

_SCRIPT = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import torch

x = torch.tensor({x!r}, dtype=torch.float64)
y = torch.tensor([{y!r}], dtype=torch.float64)
# w11, w12, b1, w21, w22, b2, v1, v2, c
p = {{name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
     for name, value in zip({names!r}, {weights!r})}}
f = torch.{activation}
h1 = f(p["w11"] * x[0] + p["w12"] * x[1] + p["b1"])
h2 = f(p["w21"] * x[0] + p["w22"] * x[1] + p["b2"])
o = (p["v1"] * h1 + p["v2"] * h2 + p["c"]).reshape(1)
loss = torch.nn.{loss}()(o, y)
loss.backward()  # {c[hand]}
print(f"loss = {{loss.item():.10f}}")
with torch.no_grad():
    for name, t in p.items():
        print(f"dL/d{{name}} = {{t.grad.item():.10f}}, updated {{name}} = {{(t - {lr!r} * t.grad).item():.10f}}")
'''


def run_hand(p, callback: Callable[[dict], None] | None = None) -> dict:
    steps = B.steps(p.hand_x, p.hand_y, p.hand_weights, p.activation, p.hand_loss, p.lr)
    loss, grads = B.autograd(p.hand_x, p.hand_y, p.hand_weights, p.activation, p.hand_loss)
    return {"section": "by_hand", "steps": steps, "autograd_loss": loss, "autograd": grads, "stopped": False}


def summary_hand(result: dict) -> dict:
    steps = result["steps"]
    return {"section": "by_hand", "loss": next(s.value for s in steps if s.node == "L"),
            "gradients": B.hand_gradients(steps), "autograd_loss": result["autograd_loss"],
            "autograd": result["autograd"],
            "updated": {s.node[:-1]: s.value for s in steps if s.phase == "update"}}


def export_hand(p, lang: str = "en") -> str:
    from nnkit.experiments.gradients import applies

    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    return _SCRIPT.format(c={**c, "settings": c["settings"].format(section=p.section)}, settings=settings,
                          x=list(p.hand_x), y=p.hand_y, names=B.PARAMS, weights=list(p.hand_weights),
                          activation=p.activation, lr=p.lr,
                          loss="MSELoss" if p.hand_loss == "squared" else "BCEWithLogitsLoss")


BY_HAND = Section(
    settings=("activation", "hand_loss", "hand_x", "hand_y", "hand_weights", "lr"),
    run=run_hand, summary=summary_hand, shown=lambda result: [], epochs=lambda p: 0, export=export_hand)
