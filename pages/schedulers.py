"""Schedulers: every learning-rate schedule as torch.optim.lr_scheduler computes it, where
`scheduler.step()` goes, and what the schedules do to a real training run."""

from nnkit.experiments import schedulers
from nnkit.experiments.schedulers import SchedulersParams as P
from nnkit.schedules import READS
from ui.params import widget, widgets
from ui.schedulers import curves, placement, training
from ui.sectioned import page

# each section's view: (params, run's result) -> draws it
VIEWS = {"schedules": curves.show_schedules, "placement": placement.show_placement, "training": training.show_training,
         "range_test": training.show_range_test, "batch_size": training.show_batch_size}


def settings(p: P) -> None:
    """The curves' widgets: the schedulers, the run they span, then the chosen ones' own settings."""
    if p.section == "placement":
        widgets(P, ["placement_scheduler", "lr", "epochs", "steps_per_epoch"])
        widgets(P, list(READS[p.placement_scheduler]))
        return
    if p.section != "schedules":
        lists = [n for n in ("train_schedules", "rt_rates", "bs_runs") if n in schedulers.applies(p)]
        widgets(P, [n for n in schedulers.applies(p) if n not in ("section", "seed", *lists)])
        for name in lists:  # a row of its own: room for its chips
            widget(P, name)
        return
    widget(P, "schedulers")
    widgets(P, ["lr", "epochs", "steps_per_epoch"], columns=3)
    widgets(P, list(dict.fromkeys(n for name in p.schedulers for n in READS[name])))


page("sch", schedulers, VIEWS, schedulers.RUN_FINALS, settings=settings)
