"""The Schedulers experiment: one parameter set, sections each in its own module.

"schedules" draws the learning rate every torch.optim.lr_scheduler the course names gives over a run,
stepped per epoch or per batch as each is meant to be, with its formula; "placement" shows where
`scheduler.step()` goes, and the curve a call in the wrong place or the wrong number of times
produces. "training", "range_test" and "batch_size" train networks with them. `section` picks what
runs; each section (nnkit.experiments.base.Section) brings its run, summary, record rows and code export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nnkit.experiments import schedulers_curves as curves_part, schedulers_placement as placement_part
from nnkit.experiments import schedulers_range as range_part, schedulers_training as training_part
from nnkit.experiments.base import Experiment, Section, Sections, param
from nnkit.schedules import NAMES as SCHEDULER_NAMES

PARTS: dict[str, Section] = {"schedules": curves_part.SCHEDULES, "placement": placement_part.PLACEMENT,
                             "training": training_part.TRAINING, "range_test": range_part.RANGE_TEST,
                             "batch_size": range_part.BATCH_SIZE}
# the page's sections in the course's order (学习率调节器: what each schedule does, how it is called, then
# training with them, choosing the rate they start from, and the factors such as the batch size);
# the picker offers those that exist
ORDER = ("schedules", "placement", "training", "range_test", "batch_size")
SECTIONS = tuple(s for s in ORDER if s in PARTS)


@dataclass(frozen=True)
class SchedulersParams:
    texts: ClassVar[str] = "sch"  # this page words its settings its own way (param.sch.<name>)
    section: str = param("schedules", "choice", choices=SECTIONS)
    # schedules: the curves, and the run they span
    schedulers: tuple = param(("step", "cosine", "warmup_cosine"), "multi", choices=SCHEDULER_NAMES, min_len=1,
                              max_len=len(SCHEDULER_NAMES))
    lr: float = param(0.1, "float", lo=1e-5, hi=10.0, log=True)
    epochs: int = param(30, "int", lo=1, hi=1000, step=1)
    steps_per_epoch: int = param(20, "int", lo=1, hi=100, step=1)
    # StepLR, MultiStepLR, ExponentialLR (epochs)
    step_size: int = param(10, "int", lo=1, hi=1000, step=1)
    step_gamma: float = param(0.5, "float", lo=0.01, hi=1.0, step=0.01)
    milestones: tuple = param((15.0, 25.0), "floats", lo=1.0, hi=1000.0, min_len=1, max_len=10, unique=True)
    multistep_gamma: float = param(0.1, "float", lo=0.01, hi=1.0, step=0.01)
    exp_gamma: float = param(0.9, "float", lo=0.5, hi=1.0, step=0.005)
    # CosineAnnealingLR, CosineAnnealingWarmRestarts (epochs); eta_min is the floor of every cosine
    t_max: int = param(30, "int", lo=1, hi=1000, step=1)
    eta_min: float = param(0.0, "float", lo=0.0, hi=1.0, step=0.001)
    t_0: int = param(10, "int", lo=1, hi=1000, step=1)
    t_mult: int = param(2, "int", lo=1, hi=4, step=1)
    # LinearLR warm-up, then CosineAnnealingLR, chained by SequentialLR; OneCycleLR (batches)
    warmup_steps: int = param(100, "int", lo=1, hi=10000, step=10)
    start_factor: float = param(0.01, "float", lo=0.001, hi=1.0, log=True)
    pct_start: float = param(0.3, "float", lo=0.05, hi=0.95, step=0.05)
    div_factor: float = param(25.0, "float", lo=1.0, hi=1000.0, log=True)
    final_div_factor: float = param(1e4, "float", lo=1.0, hi=1e6, log=True)
    # ReduceLROnPlateau, on a stated synthetic validation loss here (a real one in training)
    plateau_factor: float = param(0.5, "float", lo=0.05, hi=0.95, step=0.05)
    patience: int = param(3, "int", lo=0, hi=20, step=1)
    loss_noise: float = param(0.02, "float", lo=0.0, hi=0.2, step=0.005)
    # placement: where scheduler.step() goes (the chosen scheduler keeps its settings above)
    placement_scheduler: str = param("step", "choice", choices=SCHEDULER_NAMES)
    # training: the digits MLP trained once per chosen schedule (lengths from this run, shapes from above)
    train_schedules: tuple = param(("fixed", "cosine", "warmup_cosine"), "multi",
                                   choices=training_part.TRAIN_CHOICES, min_len=1, max_len=4)
    train_optimizer: str = param("adam", "choice", choices=training_part.OPTIMIZERS)
    train_lr: float = param(0.01, "float", lo=1e-4, hi=1.0, log=True)
    train_epochs: int = param(10, "int", lo=1, hi=50, step=1)
    train_batch: int = param(32, "int", lo=8, hi=512, step=8)
    train_warmup: int = param(36, "int", lo=1, hi=1000, step=1)
    # range_test: the LR range test, then the digits MLP trained at the rates it points to
    rt_optimizer: str = param("sgd", "choice", choices=training_part.OPTIMIZERS)
    rt_start_lr: float = param(1e-5, "float", lo=1e-7, hi=1e-2, log=True)
    rt_end_lr: float = param(10.0, "float", lo=0.1, hi=100.0, log=True)
    rt_steps: int = param(100, "int", lo=10, hi=500, step=10)
    rt_batch: int = param(32, "int", lo=8, hi=512, step=8)
    rt_epochs: int = param(5, "int", lo=1, hi=30, step=1)
    rt_rates: tuple = param(range_part.RATES, "multi", choices=range_part.RATES, min_len=1, max_len=3)
    # batch_size: the linear scaling rule, batch B at rate η against batch kB at η and at kη (SGD)
    bs_base: int = param(32, "int", lo=8, hi=128, step=8)
    bs_factor: int = param(4, "int", lo=2, hi=16, step=1)
    bs_lr: float = param(0.01, "float", lo=1e-4, hi=0.1, log=True)
    bs_epochs: int = param(10, "int", lo=1, hi=30, step=1)
    bs_runs: tuple = param(range_part.BATCH_RUNS, "multi", choices=range_part.BATCH_RUNS, min_len=1, max_len=3)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


SECTIONED = Sections(PARTS)
SETTINGS = SECTIONED.settings  # the settings each section uses, besides section and seed
applies, check, epochs_total, run = SECTIONED.applies, SECTIONED.check, SECTIONED.epochs, SECTIONED.run
summary, export_code = SECTIONED.summary, SECTIONED.export


def records(p: SchedulersParams, result: dict) -> list:
    """The run records of the networks the section trained (none for the curves: nothing trains)."""
    return list(PARTS[result["section"]].shown(result))


def record(p: SchedulersParams, result: dict):
    """The run record of the last network (the CLI's --save-run keeps one), or None."""
    made = records(p, result)
    return made[-1] if made else None


RUN_METRICS = ("train_loss", "val_loss", "lr")
# lr and batch_size tell apart the networks of the range test and of the batch-size section
RUN_FINALS = ("val_loss", "val_accuracy", "lr", "batch_size")

GUIDED = SECTIONED.guided

EXPERIMENT = Experiment("schedulers", SchedulersParams, run, summary, export_code, guided=GUIDED, record=record)
