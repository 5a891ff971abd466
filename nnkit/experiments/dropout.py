"""The Dropout experiment: one parameter set, four sections, each in its own module.

"compare_rates" trains the same wide network with each dropout rate the learner lists (what dropout
buys on held-out data, and what it costs), on a toy 2-D set or a small subset of the 8x8 digits; "train_eval" takes one trained network apart (train vs
eval mode, keep vs drop probability); "ensemble" averages K thinned networks (Monte Carlo dropout);
"masks" draws the units each training pass drops. `section` picks what runs; each section
(nnkit.experiments.base.Section) brings its run, summary, network, epoch count and code export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

from nnkit.datasets.toy2d import TOY2D_NAMES
from nnkit.experiments import dropout_compare as compare, dropout_inside as inside
from nnkit.experiments.base import Experiment, ParamError, Section, Sections, param

PARTS: dict[str, Section] = {
    "compare_rates": compare.COMPARE,
    "train_eval": inside.TRAIN_EVAL,
    "ensemble": inside.ENSEMBLE,
    "masks": inside.MASKS,
}
SECTIONS = tuple(PARTS)
MAX_RATE = 0.9  # above it almost nothing passes, and 1 / (1 - p) blows the kept outputs up
DIGITS = "digits"  # scikit-learn's 8x8 digits: the comparison's second data choice (64 inputs, 10 classes)
TOY_ONLY = ("n_points", "noise", "epochs")  # the settings of the toy sets; the digits have their own
DIGITS_ONLY = ("subset", "digit_epochs")


@dataclass(frozen=True)
class DropoutParams:
    texts: ClassVar[str] = "drp"  # this page words its settings its own way (param.drp.<name>)
    section: str = param("compare_rates", "choice", choices=SECTIONS)
    dataset: str = param("moons", "choice", choices=TOY2D_NAMES + (DIGITS,))
    n_points: int = param(120, "int", lo=60, hi=600, step=30)
    noise: float = param(0.35, "float", lo=0.0, hi=0.6, step=0.05)
    width: int = param(128, "int", lo=8, hi=256, step=8)
    depth: int = param(2, "int", lo=1, hi=3, step=1)
    rates: tuple = param((0.0, 0.2, 0.5), "floats", lo=0.0, hi=MAX_RATE, min_len=1, max_len=5, unique=True)
    rate: float = param(0.5, "float", lo=0.0, hi=MAX_RATE, step=0.05)
    lr: float = param(0.01, "float", lo=0.0001, hi=1.0, log=True)
    epochs: int = param(500, "int", lo=10, hi=1000, step=10)
    # the digits (comparison only): a 150-image training subset memorised in 100 epochs (3 x 128 units: 11 s
    # for 500 epochs, too slow for the page)
    subset: int = param(150, "int", lo=50, hi=1000, step=50)
    digit_epochs: int = param(100, "int", lo=10, hi=500, step=10)
    batch_size: int = param(64, "int", lo=1, hi=512, step=1)
    samples: int = param(10000, "int", lo=100, hi=100000, step=100)
    # masks
    layer_rates: tuple = param((0.5, 0.5), "floats", lo=0.0, hi=MAX_RATE, min_len=1, max_len=3)
    units: int = param(6, "int", lo=2, hi=10, step=1)
    passes: int = param(20, "int", lo=1, hi=50, step=1)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


SECTIONED = Sections(PARTS)
SETTINGS = SECTIONED.settings  # the settings each section uses, besides section and seed
epochs_total, summary, export_code = SECTIONED.epochs, SECTIONED.summary, SECTIONED.export


def settings(p: DropoutParams) -> tuple[str, ...]:
    """The settings `p`'s section reads with `p`'s data set (the page's widgets)."""
    other = TOY_ONLY if p.dataset == DIGITS else DIGITS_ONLY
    return tuple(name for name in SETTINGS[p.section] if name not in other)


def applies(p: DropoutParams) -> tuple[str, ...]:
    return ("section",) + settings(p) + ("seed",)


def check(p: DropoutParams) -> None:
    """Only the comparison trains on the digits: the other sections draw 2-D points and regions."""
    if p.dataset == DIGITS and p.section != "compare_rates" and "dataset" in SETTINGS[p.section]:
        raise ParamError("not_choice", f"dataset: {DIGITS!r} is not one of {', '.join(TOY2D_NAMES)}",
                         name="dataset", value=DIGITS, choices=", ".join(TOY2D_NAMES))


def run(p: DropoutParams, callback: Callable[[dict], None] | None = None) -> dict:
    check(p)
    return SECTIONED.run(p, callback)


def records(p: DropoutParams, result: dict) -> list:
    """One run record per network trained: train and validation loss per epoch. A comparison's
    networks each keep the settings that remake them alone (`rates` holding their one rate)."""
    from nnkit.runs import RunRecord, settings_text

    out = []
    for rate, net in PARTS[result["section"]].shown(result):
        rows = [{"epoch": e["epoch"] + 1, "train_loss": e["train_loss"], "val_loss": e["val_loss"],
                 "running_loss": e["running_loss"]} for e in net.history]
        if not rows:
            continue
        settings = settings_text(p, list(applies(p)))
        if "rates" in settings:
            settings["rates"] = settings_text(type(p)(rates=(rate,)), ["rates"])["rates"]
        final = {"train_loss": net.train_loss, "val_loss": net.val_loss, "val_acc": net.history[-1]["val_acc"],
                 "best_val_loss": min(e["val_loss"] for e in net.history)}
        out.append(RunRecord("dropout", settings, rows, final, net.outcome, "epoch"))
    return out


def record(p: DropoutParams, result: dict):
    """The run record of the last network trained (the CLI's --save-run keeps one), or None."""
    made = records(p, result)
    return made[-1] if made else None


RUN_METRICS = ("train_loss", "val_loss", "running_loss")
RUN_FINALS = ("train_loss", "val_loss", "best_val_loss", "val_acc")

GUIDED = SECTIONED.guided

EXPERIMENT = Experiment("dropout", DropoutParams, run, summary, export_code, guided=GUIDED, record=record)
