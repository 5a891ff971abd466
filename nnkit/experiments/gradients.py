"""The Gradients experiment: one parameter set, four sections, each in its own module.

"by_hand" steps through one forward and backward pass of a 2-2-1 network; "chain" multiplies
local derivatives along a chain of one-unit layers (why depth multiplies);
"health" measures every layer's gradient norm and activation statistics of one deep MLP at its
first step and while it trains; "fixes" trains the same deep network twice, as set (broken) and
with the fixes switched on, side by side. `section` picks what runs; each section
(nnkit.experiments.base.Section) brings its run, summary, networks, epoch count and code export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nnkit.datasets.toy2d import TOY2D_NAMES
from nnkit.backprop import LOSSES
from nnkit.experiments import gradients_fixes as fixes, gradients_hand as hand, gradients_health as health
from nnkit.experiments.base import Experiment, Section, Sections, param
from nnkit.gradients import CLIPS
from nnkit.models import INITS

PARTS: dict[str, Section] = {
    "by_hand": hand.BY_HAND,
    "chain": health.CHAIN,
    "health": health.HEALTH,
    "fixes": fixes.FIXES,
}
SECTIONS = tuple(PARTS)
ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass(frozen=True)
class GradientsParams:
    texts: ClassVar[str] = "grd"  # this page words its settings its own way (param.grd.<name>)
    section: str = param("health", "choice", choices=SECTIONS)
    dataset: str = param("circles", "choice", choices=TOY2D_NAMES)
    n_points: int = param(256, "int", lo=64, hi=1024, step=64)
    depth: int = param(20, "int", lo=1, hi=50, step=1)
    width: int = param(64, "int", lo=8, hi=128, step=8)
    activation: str = param("sigmoid", "choice", choices=ACTIVATIONS)
    init: str = param("default", "choice", choices=INITS)
    batch_norm: bool = param(False, "bool")
    residual: bool = param(False, "bool")
    # fixes: each a switch on the same network
    fix_relu: bool = param(True, "bool")
    fix_init: bool = param(True, "bool")
    fix_bn: bool = param(False, "bool")
    fix_residual: bool = param(False, "bool")
    clip: str = param("none", "choice", choices=CLIPS)
    clip_threshold: float = param(1.0, "float", lo=0.001, hi=100.0, log=True)
    lr: float = param(0.1, "float", lo=0.0001, hi=1.0, log=True)
    epochs: int = param(200, "int", lo=10, hi=2000, step=10)
    # chain
    chain_weight: float = param(1.0, "float", lo=0.1, hi=8.0, step=0.1)
    # by hand: x = (x1, x2), target y, and w11, w12, b1, w21, w22, b2, v1, v2, c
    hand_loss: str = param("squared", "choice", choices=LOSSES)
    hand_x: tuple = param((1.0, -2.0), "floats", lo=-5.0, hi=5.0, min_len=2, max_len=2)
    hand_y: float = param(1.0, "float", lo=0.0, hi=1.0, step=0.05)
    hand_weights: tuple = param((0.5, -0.3, 0.1, 0.8, 0.2, -0.1, 1.2, -0.7, 0.05), "floats", lo=-5.0, hi=5.0,
                                min_len=9, max_len=9)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


SECTIONED = Sections(PARTS)
SETTINGS = SECTIONED.settings  # the settings each section uses, besides section and seed
applies, epochs_total, run = SECTIONED.applies, SECTIONED.epochs, SECTIONED.run
summary, export_code = SECTIONED.summary, SECTIONED.export


def records(p: GradientsParams, result: dict) -> list:
    """One run record per network trained: its loss and total gradient norm per step. The broken
    network of a comparison keeps the settings that remake it alone (every fix off)."""
    from nnkit.runs import RunRecord, settings_text

    out = []
    for role, net in PARTS[result["section"]].shown(result):
        rows = [health.finite({"epoch": e["epoch"] + 1, "loss": e["loss"], "grad_norm": e["grad_norm"]})
                for e in net["history"]]
        if not rows:
            continue
        settings = settings_text(fixes.broken_params(p) if role == "broken" else p, list(applies(p)))
        final = {"loss": rows[-1]["loss"], "first_norm": net["first"]["norms"][0],
                 "last_norm": net["first"]["norms"][-1]}
        out.append(RunRecord("gradients", settings, rows, health.finite(final), net["outcome"], "epoch"))
    return out


def record(p: GradientsParams, result: dict):
    """The run record of the last network trained (the CLI's --save-run keeps one), or None."""
    made = records(p, result)
    return made[-1] if made else None


RUN_METRICS = ("loss", "grad_norm")
RUN_FINALS = ("loss", "first_norm", "last_norm")

GUIDED = SECTIONED.guided

EXPERIMENT = Experiment("gradients", GradientsParams, run, summary, export_code, guided=GUIDED, record=record)
