"""The curves section of the Schedulers page: the learning rate each chosen torch scheduler gives over
a run of `epochs` epochs of `steps_per_epoch` batches, stepped per batch (warm-up, OneCycle) or per
epoch (the others) as each is meant to be, and its formula. ReduceLROnPlateau reacts to the stated
synthetic validation loss of nnkit.schedules.plateau_loss. Nothing trains: computed in a blink."""

from __future__ import annotations

from typing import Callable

from nnkit import schedules
from nnkit.experiments.base import Guided, ParamError, Section, fmt

RUN = ("schedulers", "lr", "epochs", "steps_per_epoch")


def reads(p) -> tuple[str, ...]:
    """The run's settings, then those of the chosen schedulers (each once)."""
    return RUN + tuple(dict.fromkeys(n for name in p.schedulers for n in schedules.READS[name]))


def check(p) -> None:
    check_settings(p, p.schedulers)


def check_settings(p, names) -> None:
    """MultiStepLR counts whole epochs; the warm-up must end before the run does."""
    if "multistep" in names and any(not float(m).is_integer() for m in p.milestones):
        raise ParamError("not_int", f"milestones: {', '.join(fmt(m) for m in p.milestones)} are not whole epochs",
                         name="milestones", value=", ".join(fmt(m) for m in p.milestones))
    total = p.epochs * p.steps_per_epoch
    if "warmup_cosine" in names and p.warmup_steps >= total:
        raise ParamError("outside", f"warmup_steps: {p.warmup_steps} is outside [1, {total - 1}]",
                         name="warmup_steps", value=str(p.warmup_steps), range=f"[1, {total - 1}]")


def run_schedules(p, callback: Callable[[dict], None] | None = None) -> dict:
    check(p)
    val_loss = schedules.plateau_loss(p.epochs, p.loss_noise, p.seed) if "plateau" in p.schedulers else None
    curves = {}
    for name in p.schedulers:
        steps = schedules.steps_of(name, p.epochs, p.steps_per_epoch)
        curves[name] = {"per_batch": name in schedules.PER_BATCH, "lrs": schedules.curve(name, p, steps, val_loss)}
    return {"section": "schedules", "steps_per_epoch": p.steps_per_epoch, "curves": curves, "val_loss": val_loss,
            "stopped": False}


def summary_schedules(result: dict) -> dict:
    return {"section": "schedules",
            "schedules": {name: {"stepped": "per batch" if c["per_batch"] else "per epoch", "steps": len(c["lrs"]),
                                 "first": c["lrs"][0], "last": c["lrs"][-1], "min": min(c["lrs"]),
                                 "max": max(c["lrs"])}
                          for name, c in result["curves"].items()}}


def shown_schedules(result: dict) -> list:
    return []  # computed in a blink and drawn whole: nothing for the run history


def export_schedules(p, lang: str = "en") -> str:
    from nnkit.experiments.schedulers_export import schedules_script

    return schedules_script(p, lang)


GUIDED = (
    # measured: warm-up starts at 0.001, OneCycle at 0.004, cosine at 0.1; all three peak at 0.1
    Guided("warmup", {"section": "schedules", "schedulers": "warmup_cosine,onecycle,cosine"},
           lambda s: abs(s["schedules"]["warmup_cosine"]["first"] - 0.001) < 1e-12
           and abs(s["schedules"]["onecycle"]["first"] - 0.004) < 1e-12 and s["schedules"]["cosine"]["first"] == 0.1
           and all(abs(c["max"] - 0.1) < 1e-12 for c in s["schedules"].values())),
)

SCHEDULES = Section(settings=RUN + tuple(dict.fromkeys(n for names in schedules.READS.values() for n in names)),
                    run=run_schedules, summary=summary_schedules, shown=shown_schedules, epochs=lambda p: 0,
                    export=export_schedules, guided=GUIDED, reads=reads, check=check)
