"""The curves section of the Schedulers page: the learning rate each chosen torch scheduler gives over
a run of `epochs` epochs of `steps_per_epoch` batches, stepped per batch (warm-up, OneCycle) or per
epoch (the others) as each is meant to be, and its formula. ReduceLROnPlateau reacts to the stated
synthetic validation loss of nnkit.schedules.plateau_loss. Nothing trains: computed in a blink."""

from __future__ import annotations

from typing import Callable

from nnkit import schedules
from nnkit.experiments.base import ParamError, Section, comments
from nnkit.experiments.base import fmt

RUN = ("schedulers", "lr", "epochs", "steps_per_epoch")


def reads(p) -> tuple[str, ...]:
    """The run's settings, then those of the chosen schedulers (each once)."""
    return RUN + tuple(dict.fromkeys(n for name in p.schedulers for n in schedules.READS[name]))


def check(p) -> None:
    """MultiStepLR counts whole epochs; the warm-up must end before the run does."""
    if "multistep" in p.schedulers and any(not float(m).is_integer() for m in p.milestones):
        raise ParamError("not_int", f"milestones: {', '.join(fmt(m) for m in p.milestones)} are not whole epochs",
                         name="milestones", value=", ".join(fmt(m) for m in p.milestones))
    total = p.epochs * p.steps_per_epoch
    if "warmup_cosine" in p.schedulers and p.warmup_steps >= total:
        raise ParamError("outside", f"warmup_steps: {p.warmup_steps} is outside [1, {total - 1}]",
                         name="warmup_steps", value=str(p.warmup_steps), range=f"[1, {total - 1}]")


def losses(p) -> list[float]:
    return schedules.plateau_loss(p.epochs, p.loss_noise, p.seed)


def run_schedules(p, callback: Callable[[dict], None] | None = None) -> dict:
    check(p)
    curves = {}
    for name in p.schedulers:
        steps = schedules.steps_of(name, p.epochs, p.steps_per_epoch)
        curves[name] = {"per_batch": name in schedules.PER_BATCH,
                        "lrs": schedules.curve(name, p, steps, losses(p) if name == "plateau" else None)}
    return {"section": "schedules", "steps_per_epoch": p.steps_per_epoch, "curves": curves,
            "val_loss": losses(p) if "plateau" in p.schedulers else None, "stopped": False}


def summary_schedules(result: dict) -> dict:
    return {"section": "schedules",
            "schedules": {name: {"stepped": "per batch" if c["per_batch"] else "per epoch", "steps": len(c["lrs"]),
                                 "first": c["lrs"][0], "last": c["lrs"][-1], "min": min(c["lrs"]),
                                 "max": max(c["lrs"])}
                          for name, c in result["curves"].items()}}


def shown_schedules(result: dict) -> list:
    return []  # computed in a blink and drawn whole: nothing for the run history


def export_schedules(p, lang: str = "en") -> str:
    return ""


SCHEDULES = Section(settings=RUN + tuple(dict.fromkeys(n for names in schedules.READS.values() for n in names)),
                    run=run_schedules, summary=summary_schedules, shown=shown_schedules, epochs=lambda p: 0,
                    export=export_schedules, reads=reads, check=check)
