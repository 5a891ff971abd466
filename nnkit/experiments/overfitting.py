"""The Overfitting experiment: one parameter set, several sections, each in its own module.

`section` picks what runs; each section (nnkit.experiments.base.Section) names the settings it
reads and brings its run, summary, the network its run record keeps, its epoch count and its code
export. This module dispatches to them, so the page, the CLI and the tests see one experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nnkit.datasets.toy2d import TOY2D_NAMES
from nnkit.experiments import overfitting_capacity as capacity
from nnkit.experiments import overfitting_regularization as regularization
from nnkit.experiments import overfitting_validation as validation
from nnkit.experiments.base import Experiment, Section, Sections, param

PARTS: dict[str, Section] = {
    "capacity": capacity.CAPACITY,
    "approximation": capacity.APPROXIMATION,
    "data_size": capacity.DATA_SIZE,
    # the course's order: choosing a model on held-out data, then the remedies (data, training, penalty)
    "validation": validation.VALIDATION,
    "augmentation": validation.AUGMENTATION,
    "early_stopping": regularization.EARLY_STOPPING,
    "regularization": regularization.REGULARIZATION,
}
SECTIONS = tuple(PARTS)


@dataclass(frozen=True)
class OverfittingParams:
    texts: ClassVar[str] = "ovf"  # this page words its settings its own way (param.ovf.<name>)
    section: str = param("capacity", "choice", choices=SECTIONS)
    dataset: str = param("moons", "choice", choices=TOY2D_NAMES)
    n_points: int = param(150, "int", lo=30, hi=600, step=30)
    noise: float = param(0.3, "float", lo=0.0, hi=0.6, step=0.05)
    depth_width: int = param(16, "int", lo=2, hi=64, step=1)
    lr: float = param(0.01, "float", lo=0.0001, hi=1.0, log=True)
    epochs: int = param(300, "int", lo=10, hi=2000, step=10)
    batch_size: int = param(64, "int", lo=1, hi=512, step=1)
    # approximation
    units: int = param(12, "int", lo=1, hi=64, step=1)
    activation: str = param("relu", "choice", choices=("relu", "tanh", "sigmoid"))
    approx_lr: float = param(0.05, "float", lo=0.0001, hi=1.0, log=True)
    approx_epochs: int = param(1000, "int", lo=10, hi=5000, step=10)
    # early_stopping
    patience: int = param(20, "int", lo=1, hi=100, step=1)
    min_delta: float = param(0.0, "float", lo=0.0, hi=0.1, step=0.005)
    # regularization
    p_norm: float = param(2.0, "float", lo=1.0, hi=4.0, step=0.5)
    lam: float = param(0.001, "float", lo=1e-05, hi=0.1, log=True)
    weight_decay: float = param(0.01, "float", lo=1e-05, hi=1.0, log=True)
    geo_lam: float = param(0.5, "float", lo=0.0, hi=1.5, step=0.05)
    # validation: K of K-fold cross-validation
    folds: int = param(4, "int", lo=2, hi=10, step=1)
    # augmentation: the transforms' strength, the training subset of the digits, its epochs
    degrees: int = param(15, "int", lo=0, hi=45, step=5)
    shift: int = param(0, "int", lo=0, hi=2, step=1)
    scale: float = param(0.15, "float", lo=0.0, hi=0.3, step=0.05)
    subset: int = param(50, "int", lo=20, hi=1000, step=10)
    aug_epochs: int = param(100, "int", lo=5, hi=300, step=5)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


SECTIONED = Sections(PARTS)
SETTINGS = SECTIONED.settings  # the settings each section uses, besides section and seed
applies, epochs_total, run = SECTIONED.applies, SECTIONED.epochs, SECTIONED.run
summary, export_code = SECTIONED.summary, SECTIONED.export


def record(p: OverfittingParams, result: dict):
    """The run as a run record: train and validation loss per epoch of the network its section shows."""
    from nnkit.runs import RunRecord, settings_text

    shown = PARTS[result["section"]].shown(result)
    rows = [{"epoch": e["epoch"] + 1, "train_loss": e["train_loss"], "val_loss": e["val_loss"]}
            for e in shown.history]
    if not rows:
        return None
    final = {"train_loss": shown.train_loss, "val_loss": shown.val_loss, "params": shown.params}
    if "test" in result:
        final["test_loss"] = result["test"]["loss"]
    outcome = "stopped" if result["stopped"] else shown.outcome
    return RunRecord("overfitting", settings_text(p, list(applies(p))), rows, final, outcome, "epoch")


def records(p: OverfittingParams, result: dict) -> list:
    """The page keeps one run per result: the network its section shows."""
    made = record(p, result)
    return [made] if made is not None else []


RUN_METRICS = ("train_loss", "val_loss")
RUN_FINALS = ("train_loss", "val_loss", "params")  # not the test score: runs are compared, and chosen, on validation

GUIDED = SECTIONED.guided

EXPERIMENT = Experiment("overfitting", OverfittingParams, run, summary, export_code, guided=GUIDED, record=record)
