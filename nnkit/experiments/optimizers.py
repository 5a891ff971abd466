"""The Optimizers experiment: one parameter set, sections each in its own module.

"race" runs any set of update rules (nnkit.updates) from one start point over a 2-D landscape
(nnkit.landscapes), each with its own learning rate; "triad" shows the course's three elements of
gradient descent (start point, gradient, learning rate) on a 1-D quadratic, with four learning
rates: too small, right, oscillating, diverging; "data" fits the two parameters of a linear
regression by full-batch GD, SGD and mini-batches, so the noise comes from the samples; "loss_functions" shows
the second-derivative test of convexity, Jensen's inequality and the MSE as a Gaussian likelihood
(nnkit.convexity); "network" trains one MLP on the digits per optimizer (and Adam then SGD), loss and
accuracy against epoch and seconds. `section` picks what runs; each section
(nnkit.experiments.base.Section) brings its run, summary, record rows and code export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nnkit.experiments import (optimizers_convexity as convexity_part, optimizers_data as data_part,
                               optimizers_network as network_part,
                               optimizers_race as race_part, optimizers_triad as triad_part)
from nnkit.experiments.base import Experiment, Section, Sections, param
from nnkit.convexity import CONVEX, NONCONVEX
from nnkit.landscapes import NAMES as LANDSCAPE_NAMES
from nnkit.updates import NAMES as RULE_NAMES

PARTS: dict[str, Section] = {"race": race_part.RACE, "triad": triad_part.TRIAD, "data": data_part.DATA,
                             "loss_functions": convexity_part.LOSS_FUNCTIONS, "network": network_part.NETWORK}
SECTIONS = tuple(PARTS)
# A learning rate per rule that none of the landscapes throws off the plot from the default start
# (coverage-audit §2.4: the ranking flips with the learning rate, so each has its own).
PRESETS = {"gd": 0.001, "momentum": 0.001, "nesterov": 0.001, "adagrad": 0.3, "rmsprop": 0.01, "adadelta": 1.0,
           "adam": 0.1, "adamw": 0.1}


def _lr(name: str):
    return param(PRESETS[name], "float", lo=1e-6, hi=10.0, log=True)


def _net_lr(name: str):
    return param(network_part.PRESETS[name], "float", lo=1e-6, hi=10.0, log=True)


@dataclass(frozen=True)
class OptimizersParams:
    texts: ClassVar[str] = "opt"  # this page words its settings its own way (param.opt.<name>)
    section: str = param("race", "choice", choices=SECTIONS)
    landscape: str = param("rosenbrock", "choice", choices=LANDSCAPE_NAMES)
    kappa: float = param(10.0, "float", lo=1.0, hi=1000.0, log=True)
    start: tuple = param((-1.5, 2.0), "floats", lo=-10.0, hi=10.0, min_len=2, max_len=2)
    optimizers: tuple = param(("gd", "momentum", "rmsprop", "adam"), "multi", choices=RULE_NAMES, min_len=1,
                              max_len=len(RULE_NAMES))
    steps: int = param(300, "int", lo=1, hi=3000, step=10)
    lr_gd: float = _lr("gd")
    lr_momentum: float = _lr("momentum")
    lr_nesterov: float = _lr("nesterov")
    lr_adagrad: float = _lr("adagrad")
    lr_rmsprop: float = _lr("rmsprop")
    lr_adadelta: float = _lr("adadelta")
    lr_adam: float = _lr("adam")
    lr_adamw: float = _lr("adamw")
    momentum: float = param(0.9, "float", lo=0.0, hi=0.999, step=0.01)
    alpha: float = param(0.99, "float", lo=0.0, hi=0.9999, step=0.01)
    rho: float = param(0.9, "float", lo=0.0, hi=0.9999, step=0.01)
    beta1: float = param(0.9, "float", lo=0.0, hi=0.999, step=0.01)
    beta2: float = param(0.999, "float", lo=0.0, hi=0.9999, step=0.001)
    weight_decay: float = param(0.01, "float", lo=0.0, hi=1.0, step=0.01)
    # race: the gradient clipped to a largest norm before each step (torch.nn.utils.clip_grad_norm_)
    clip: bool = param(False, "bool")
    max_norm: float = param(1.0, "float", lo=0.1, hi=10.0, step=0.1)
    # triad: f(x) = a x² / 2 from x0
    curvature: float = param(1.0, "float", lo=0.1, hi=10.0, step=0.1)
    x0: float = param(4.0, "float", lo=-10.0, hi=10.0, step=0.5)
    # data: y = 2x − 1 + noise, fitted by GD, SGD and mini-batches (start is (w, b))
    samples: int = param(200, "int", lo=16, hi=2000, step=16)
    batch_size: int = param(32, "int", lo=2, hi=512, step=2)
    data_lr: float = param(0.05, "float", lo=1e-4, hi=1.0, log=True)
    data_epochs: int = param(10, "int", lo=1, hi=50, step=1)
    # network: one MLP on a subset of the digits per optimizer, each at its usual settings and own rate
    net_optimizers: tuple = param(("sgd", "momentum", "adam", "adam_sgd"), "multi", choices=network_part.NAMES,
                                  min_len=1, max_len=len(network_part.NAMES))
    net_lr_sgd: float = _net_lr("sgd")
    net_lr_momentum: float = _net_lr("momentum")
    net_lr_nesterov: float = _net_lr("nesterov")
    net_lr_adagrad: float = _net_lr("adagrad")
    net_lr_rmsprop: float = _net_lr("rmsprop")
    net_lr_adadelta: float = _net_lr("adadelta")
    net_lr_adam: float = _net_lr("adam")
    net_lr_adamw: float = _net_lr("adamw")
    net_lr_adam_sgd: float = _net_lr("adam_sgd")
    switch_epoch: int = param(10, "int", lo=1, hi=100, step=1)
    subset: int = param(300, "int", lo=50, hi=1000, step=50)
    net_epochs: int = param(20, "int", lo=1, hi=100, step=1)
    net_batch_size: int = param(32, "int", lo=8, hi=512, step=8)
    # loss_functions: a convex and a non-convex loss, two points a, b and the weight λ of Jensen's
    # inequality, and the noise σ and sample count of the maximum-likelihood fit
    convex_fn: str = param("logistic", "choice", choices=CONVEX)
    nonconvex_fn: str = param("double_well", "choice", choices=NONCONVEX)
    point_a: float = param(-2.0, "float", lo=-3.0, hi=3.0, step=0.1)
    point_b: float = param(1.5, "float", lo=-3.0, hi=3.0, step=0.1)
    lam: float = param(0.5, "float", lo=0.0, hi=1.0, step=0.05)
    sigma: float = param(1.0, "float", lo=0.1, hi=3.0, step=0.1)
    mle_samples: int = param(50, "int", lo=5, hi=500, step=5)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


SECTIONED = Sections(PARTS)
SETTINGS = SECTIONED.settings  # the settings each section uses, besides section and seed
applies, epochs_total, run = SECTIONED.applies, SECTIONED.epochs, SECTIONED.run
summary, export_code = SECTIONED.summary, SECTIONED.export


def records(p: OptimizersParams, result: dict) -> list:
    """One run record per path: its loss and step length per step, its final loss and distance (per
    trained network on the network section)."""
    from nnkit.runs import RunRecord, settings_text

    if result["section"] == "network":
        return network_part.records(p, result)
    out = []
    for name, rows, final, outcome in PARTS[result["section"]].shown(result):
        names = [n for n in applies(p) if n != "optimizers" and (not n.startswith("lr_") or n == f"lr_{name}")]
        settings = {**settings_text(p, names), "optimizers": [name]}
        out.append(RunRecord("optimizers", settings, rows, final, outcome, "step"))
    return out


def record(p: OptimizersParams, result: dict):
    """The run record of the last path (the CLI's --save-run keeps one), or None."""
    made = records(p, result)
    return made[-1] if made else None


RUN_METRICS = ("loss", "step_size", "train_loss", "val_loss", "val_acc")  # the last three: the network section
RUN_FINALS = ("loss", "distance", "val_loss", "val_acc")

GUIDED = SECTIONED.guided

EXPERIMENT = Experiment("optimizers", OptimizersParams, run, summary, export_code, guided=GUIDED, record=record)
