"""Optimizers: gradient descent and its variants, each update rule written out and checked against
torch.optim, raced on 2-D landscapes; the learning rate on a 1-D quadratic; SGD on real data; loss functions and
convexity."""

from nnkit.experiments import optimizers
from nnkit.experiments.optimizers import OptimizersParams as P
from nnkit.updates import READS
from ui.optimizers import convexity, data, network, race, triad
from ui.params import widget, widgets
from ui.sectioned import page

VIEWS = {"race": race.show_race, "triad": triad.show_triad, "data": data.show_data,
         "network": network.show_network, "loss_functions": convexity.show_loss_functions}


def settings(p: P) -> None:
    """The race's widgets: the landscape, then the optimizers, each with its own learning rate, then
    the hyper-parameters the chosen ones read."""
    if p.section == "network":
        return network.settings_network(p)
    if p.section != "race":
        widgets(P, list(optimizers.SETTINGS[p.section]), columns=5)
        return
    widgets(P, ["landscape", "start", "steps", *(["kappa"] if p.landscape == "bowl" else [])])
    widget(P, "optimizers")
    widgets(P, [f"lr_{name}" for name in p.optimizers])
    widgets(P, list(dict.fromkeys(k for name in p.optimizers for k in READS[name] if k != "eps")))
    widgets(P, ["clip", *(["max_norm"] if p.clip else [])])


page("opt", optimizers, VIEWS, optimizers.RUN_FINALS, log_metrics=("step_size",), settings=settings)
