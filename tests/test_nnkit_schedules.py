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


def placed(name: str, **change) -> dict:
    return schedulers.run(replace(P, section="placement", placement_scheduler=name, **change))["calls"]


def test_stepped_right_each_batch_of_an_epoch_uses_the_epochs_rate_and_torch_stays_quiet():
    calls = placed("exponential")
    per_epoch = schedules.curve("exponential", P, 30)
    assert calls["right"]["lrs"] == [lr for lr in per_epoch for _ in range(20)]
    assert calls["right"]["warning"] is None and calls["right"]["error"] is None


def test_stepped_before_optimizer_step_skips_the_first_rate_and_torch_warns():
    calls = placed("exponential")
    right, before = calls["right"]["lrs"], calls["before"]["lrs"]
    assert before[0] == right[20] != right[0]  # epoch 0 already trains at epoch 1's rate: 0.1 is never used
    assert before[::20][:-1] == right[::20][1:]
    assert "before `optimizer.step()`" in calls["before"]["warning"]


def test_stepped_per_batch_a_per_epoch_schedule_runs_out_steps_per_epoch_times_too_early():
    s = schedulers.summary(schedulers.run(replace(P, section="placement", placement_scheduler="step")))["calls"]
    assert s["right"]["first_change"] == 10 * 20 and s["wrong_count"]["first_change"] == 10
    assert s["wrong_count"]["last"] < 1e-15 < s["right"]["last"] == 0.025


def test_stepped_per_epoch_onecycle_never_gets_past_its_warm_up():
    calls = placed("onecycle")
    assert max(calls["right"]["lrs"]) == pytest.approx(0.1)
    assert max(calls["wrong_count"]["lrs"]) < 0.02  # 30 of its 600 steps: still near 0.1 / 25


def test_reduce_on_plateau_stepped_per_batch_counts_its_patience_in_batches():
    calls = placed("plateau")
    assert min(calls["right"]["lrs"]) == 0.05 and min(calls["wrong_count"]["lrs"]) < 1e-6


def run_script(code: str, tmp_path) -> str:
    import subprocess
    import sys

    path = tmp_path / "script.py"
    path.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def numbers(line: str) -> list[float]:
    import re

    return [float(x) for x in re.findall(r"(?:first|last|min|max) ([-+0-9.e]+)", line)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exported_curves_script_prints_the_pages_numbers(tmp_path, lang):
    p = replace(P, schedulers=schedules.NAMES, epochs=40, steps_per_epoch=7, loss_noise=0.05, seed=4)
    summary = schedulers.summary(schedulers.run(p))["schedules"]
    lines = run_script(schedulers.export_code(p, lang), tmp_path).splitlines()
    assert [line.split(":")[0] for line in lines] == list(schedules.NAMES)
    for line in lines:
        s = summary[line.split(":")[0]]
        assert numbers(line) == pytest.approx([s["first"], s["last"], s["min"], s["max"]], rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("name", ["step", "onecycle", "plateau"])
def test_the_exported_placement_script_prints_the_pages_numbers(tmp_path, name):
    p = replace(P, section="placement", placement_scheduler=name, epochs=12, steps_per_epoch=5, warmup_steps=20)
    summary = schedulers.summary(schedulers.run(p))["calls"]
    lines = run_script(schedulers.export_code(p, "en"), tmp_path).splitlines()
    assert [line.split(":")[0] for line in lines] == list(schedules.CALLS)
    for line in lines:
        s = summary[line.split(":")[0]]
        assert numbers(line) == pytest.approx([s["first"], s["last"], s["min"], s["max"]], rel=1e-5, abs=1e-12)
        assert f"first change at batch {s['first_change']}," in line and f"torch warned {s['warned']}," in line


def test_torch_warns_about_the_order_for_every_scheduler_but_warm_restarts():
    """What the page says about torch's warning (and ReduceLROnPlateau, called before the epoch with the
    last measured loss, gets what the right call gives it: the same curve)."""
    warned = {n for n in schedules.NAMES if placed(n)["before"]["warning"] is not None}
    assert warned == set(schedules.NAMES) - {"warm_restarts", "plateau"}
    plateau = placed("plateau")
    assert plateau["before"]["lrs"] == plateau["right"]["lrs"]


def test_the_exports_comments_exist_in_both_languages():
    from nnkit.experiments.schedulers_export import COMMENTS

    assert set(COMMENTS) == {"en", "zh"} and COMMENTS["en"].keys() == COMMENTS["zh"].keys()
    assert all(text.strip() for table in COMMENTS.values() for text in table.values())
    assert COMMENTS["zh"]["order"] in schedulers.export_code(P, "zh")
