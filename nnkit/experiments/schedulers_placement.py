"""The placement section of the Schedulers page: where `scheduler.step()` goes in the training loop.
One scheduler (any of nnkit.schedules.NAMES, with the curves section's settings) is stepped in a real
loop of `epochs` × `steps_per_epoch` optimizer steps three ways: right (after optimizer.step(), per
batch or per epoch as it is meant to be), before optimizer.step() (torch warns, and the first rate is
skipped), and the wrong number of times (per batch instead of per epoch: the schedule runs out
steps_per_epoch times too early; per epoch instead of per batch: it barely starts). The curves are the
rates each optimizer.step() used. Nothing trains a network: computed in a blink."""

from __future__ import annotations

from typing import Callable

from nnkit import schedules
from nnkit.experiments.base import Guided, Section

RUN = ("placement_scheduler", "lr", "epochs", "steps_per_epoch")


def reads(p) -> tuple[str, ...]:
    return RUN + schedules.READS[p.placement_scheduler]


def check(p) -> None:
    from nnkit.experiments.schedulers_curves import check_settings

    check_settings(p, (p.placement_scheduler,))


def first_change(lrs: list[float]) -> int | None:
    """The first batch whose rate differs from the first batch's, or None."""
    return next((i for i, lr in enumerate(lrs) if lr != lrs[0]), None)


def run_placement(p, callback: Callable[[dict], None] | None = None) -> dict:
    check(p)
    name = p.placement_scheduler
    losses = schedules.plateau_loss(p.epochs, p.loss_noise, p.seed) if name == "plateau" else None
    calls = {call: schedules.rates_used(name, p, p.epochs, p.steps_per_epoch, call, losses)
             for call in schedules.CALLS}
    return {"section": "placement", "scheduler": name, "per_batch": name in schedules.PER_BATCH,
            "steps_per_epoch": p.steps_per_epoch, "calls": calls, "stopped": False}


def summary_placement(result: dict) -> dict:
    return {"section": "placement", "scheduler": result["scheduler"],
            "calls": {call: {"first": c["lrs"][0], "last": c["lrs"][-1], "min": min(c["lrs"]), "max": max(c["lrs"]),
                             "first_change": first_change(c["lrs"]), "warned": c["warning"] is not None,
                             "error": c["error"]}
                      for call, c in result["calls"].items()}}


def shown_placement(result: dict) -> list:
    return []  # computed in a blink and drawn whole: nothing for the run history


def export_placement(p, lang: str = "en") -> str:
    from nnkit.experiments.schedulers_export import placement_script

    return placement_script(p, lang)


GUIDED = (
    # measured: called before optimizer.step() the highest rate used is 0.09, never 0.1, and torch warns
    Guided("before", {"section": "placement", "placement_scheduler": "exponential"},
           lambda s: s["calls"]["before"]["max"] < 0.0901 < s["calls"]["right"]["first"] == 0.1
           and s["calls"]["before"]["warned"] and not s["calls"]["right"]["warned"]),
    # measured: per batch the cosine reaches 0 (after 3 epochs) and ends at 0.0997; per epoch it ends at 0.00027
    Guided("per_batch", {"section": "placement", "placement_scheduler": "cosine", "steps_per_epoch": 10},
           lambda s: s["calls"]["wrong_count"]["min"] < 1e-9 and s["calls"]["wrong_count"]["last"] > 0.09
           and s["calls"]["right"]["last"] < 0.001),
)

PLACEMENT = Section(settings=RUN + tuple(dict.fromkeys(n for names in schedules.READS.values() for n in names)),
                    run=run_placement, summary=summary_placement, shown=shown_placement, epochs=lambda p: 0,
                    export=export_placement, guided=GUIDED, reads=reads, check=check)
