"""The Schedulers page's curves: each is exactly what torch.optim.lr_scheduler gives when stepped, and
the formula the page prints agrees with it to 1e-12."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch.optim import lr_scheduler as L

from nnkit import schedules
from nnkit.experiments import schedulers
from nnkit.experiments.base import ParamError
from nnkit.experiments.schedulers import SchedulersParams

P = SchedulersParams()


def torch_rates(make, steps: int, metrics=None) -> list[float]:
    """Written out here, apart from nnkit: the textbook loop, the rate read before each step."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = make(optimizer)
    rates = []
    for i in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(metrics[i]) if metrics is not None else scheduler.step()
    return rates


TORCH = {  # at the page's defaults: lr 0.1, 30 epochs of 20 batches
    "step": (lambda o: L.StepLR(o, 10, 0.5), 30),
    "multistep": (lambda o: L.MultiStepLR(o, [15, 25], 0.1), 30),
    "exponential": (lambda o: L.ExponentialLR(o, 0.9), 30),
    "cosine": (lambda o: L.CosineAnnealingLR(o, T_max=30, eta_min=0.0), 30),
    "warm_restarts": (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=0.0), 30),
    "warmup_cosine": (lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, total_iters=100),
                                                   L.CosineAnnealingLR(o, T_max=500)], milestones=[100]), 600),
    "onecycle": (lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=600, pct_start=0.3), 600),
    "plateau": (lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=3), 30),
}


@pytest.mark.parametrize("name", schedules.NAMES)
def test_each_curve_is_exactly_what_torch_gives(name):
    make, steps = TORCH[name]
    metrics = schedules.plateau_loss(30, 0.02, 0) if name == "plateau" else None
    result = schedulers.run(replace(P, schedulers=(name,)))
    assert result["curves"][name]["lrs"] == torch_rates(make, steps, metrics)
    assert result["curves"][name]["per_batch"] == (name in ("warmup_cosine", "onecycle"))


SETTINGS = [P, replace(P, epochs=200, t_max=30, t_0=7, t_mult=1, eta_min=0.01, step_size=3, exp_gamma=0.97),
            replace(P, epochs=100, steps_per_epoch=7, t_0=3, t_mult=3, warmup_steps=33, start_factor=0.3,
                    pct_start=0.55, div_factor=3.0, final_div_factor=100.0, milestones=(1.0, 50.0, 99.0), lr=2.5)]


@pytest.mark.parametrize("p", SETTINGS)
@pytest.mark.parametrize("name", [n for n in schedules.NAMES if n != "plateau"])
def test_the_printed_formula_agrees_with_torch(name, p):
    steps = schedules.steps_of(name, p.epochs, p.steps_per_epoch)
    exact, formula = schedules.curve(name, p, steps), schedules.closed_form(name, p, steps)
    assert max(abs(a - b) for a, b in zip(exact, formula)) <= 1e-12
    assert len(set(round(v, 9) for v in exact)) > 1  # the schedule moves: the comparison is not of constants


def test_reduce_on_plateau_lowers_the_rate_after_patience_epochs_without_improvement():
    p = replace(P, patience=2, plateau_factor=0.1, lr=1.0)
    losses = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]  # flat from epoch 3
    rates = schedules.curve("plateau", p, len(losses), losses)
    # epochs 3 and 4 are the tolerated bad ones; after the third (epoch 5) the rate drops, and the count restarts
    assert rates == pytest.approx([1.0] * 6 + [0.1] * 4)


def test_the_synthetic_loss_is_the_stated_formula():
    z = torch.randn(5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert schedules.plateau_loss(5, 0.05, 3) == pytest.approx([0.3 + math.exp(-e / 5)
                                                                 + 0.05 * z[e].item() for e in range(5)], abs=1e-12)


def test_summary_gives_each_schedule_its_numbers():
    s = schedulers.summary(schedulers.run(replace(P, schedulers=("step", "onecycle"))))
    assert s["schedules"]["step"] == {"stepped": "per epoch", "steps": 30, "first": 0.1, "last": 0.025, "min": 0.025,
                                      "max": 0.1}
    one = s["schedules"]["onecycle"]
    assert one["steps"] == 600 and one["max"] == pytest.approx(0.1) and one["first"] == pytest.approx(0.1 / 25)
    assert one["last"] == pytest.approx(0.1 / 25 / 1e4)


@pytest.mark.parametrize("change, name", [({"milestones": (10.5, 20.0)}, "milestones"),
                                          ({"warmup_steps": 600}, "warmup_steps")])
def test_settings_the_curves_cannot_take_are_refused_by_name(change, name):
    p = replace(P, schedulers=("multistep", "warmup_cosine"), **change)
    with pytest.raises(ParamError, match=name):
        schedulers.check(p)
    with pytest.raises(ParamError):
        schedulers.run(p)


def test_the_curves_read_only_the_chosen_schedulers_settings():
    assert schedulers.applies(replace(P, schedulers=("exponential",))) == (
        "section", "schedulers", "lr", "epochs", "steps_per_epoch", "exp_gamma", "seed")
