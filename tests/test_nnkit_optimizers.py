"""The Optimizers page's nnkit part: every from-scratch update rule equals torch.optim, the test
functions' analytic gradients equal autograd, and a race reports a divergence instead of raising."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnkit.landscapes import LANDSCAPES, NAMES as LANDS
from nnkit.models import mlp
from nnkit.optim import make_optimizer
from nnkit.updates import NAMES, RULES, distance, hyper, race, torch_optimizer

# settings away from the defaults, so that a rule reading the wrong one fails
GIVEN = {"momentum": 0.8, "alpha": 0.9, "rho": 0.85, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.05}
LR = {"gd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.1, "rmsprop": 0.01, "adadelta": 1.0,
      "adam": 0.01, "adamw": 0.01}


@pytest.mark.parametrize("name", NAMES)
def test_each_rule_equals_torch_optim_on_rosenbrock(name):
    h = hyper(name, LR[name], **GIVEN)
    land = LANDSCAPES["rosenbrock"]
    w = np.array([-1.5, 2.0])
    theirs = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch_optimizer(name, [theirs], h)
    state = {}
    for _ in range(100):
        w = RULES[name](w, np.array(land.grad(w[0], w[1])), state, h)
        optimizer.zero_grad()
        land.f(theirs[0], theirs[1]).backward()
        optimizer.step()
    assert np.abs(w - theirs.detach().numpy()).max() < 1e-6
    assert np.abs(w - np.array([-1.5, 2.0])).max() > 1e-3  # it moved: the check compares real steps


@pytest.mark.parametrize("name", NAMES)
def test_each_rule_equals_torch_optim_on_a_network(name):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(128, 8, generator=g, dtype=torch.float64), torch.randint(0, 3, (128,), generator=g)
    torch.manual_seed(0)
    ours = mlp(8, [16], 3, "relu").double()
    torch.manual_seed(0)
    theirs = mlp(8, [16], 3, "relu").double()
    h = hyper(name, LR[name], **GIVEN)
    optimizer = torch_optimizer(name, theirs.parameters(), h)
    states = [{} for _ in ours.parameters()]
    for i in range(100):
        idx = torch.arange(i * 16 % 128, i * 16 % 128 + 16)
        ours.zero_grad()
        nn.functional.cross_entropy(ours(x[idx]), y[idx]).backward()
        with torch.no_grad():
            for p, s in zip(ours.parameters(), states):
                p.copy_(RULES[name](p.detach().clone(), p.grad, s, h))
        optimizer.zero_grad()
        nn.functional.cross_entropy(theirs(x[idx]), y[idx]).backward()
        optimizer.step()
    worst = max((a - b).abs().max().item() for a, b in zip(ours.parameters(), theirs.parameters()))
    assert worst < 1e-6


def test_the_factory_refuses_a_setting_the_optimizer_lacks():
    w = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="rho"):
        make_optimizer("adam", w, 0.1, rho=0.9)
    assert make_optimizer("rmsprop", w, 0.1, alpha=0.5).param_groups[0]["alpha"] == 0.5


@pytest.mark.parametrize("name", LANDS)
def test_analytic_gradients_equal_autograd(name):
    land = LANDSCAPES[name]
    rng = np.random.default_rng(0)
    x0, x1, y0, y1 = land.box
    for x, y in zip(rng.uniform(x0, x1, 20), rng.uniform(y0, y1, 20)):
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        land.f(tx, ty, 7.0).backward()
        gx, gy = land.grad(x, y, 7.0)
        assert gx == pytest.approx(tx.grad.item(), rel=1e-9, abs=1e-9)
        assert gy == pytest.approx(ty.grad.item(), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", LANDS)
def test_the_minimum_is_where_the_gradient_vanishes_and_nothing_nearby_is_lower(name):
    land = LANDSCAPES[name]
    mx, my = land.minimum(7.0)
    assert np.hypot(*land.grad(mx, my, 7.0)) < 1e-9
    x0, x1, y0, y1 = land.box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
    assert land.f(gx, gy, 7.0).min() >= land.f(mx, my, 7.0) - 1e-12


def test_the_saddle_is_a_saddle():
    land = LANDSCAPES["saddle"]
    assert land.grad(0.0, 0.0) == (0.0, 0.0)
    assert land.f(0.1, 0.0) > land.f(0.0, 0.0) > land.f(0.0, 0.1)  # a minimum along x, a maximum along y


def test_an_exploding_learning_rate_ends_the_path_as_diverged_without_an_exception():
    paths = race("rosenbrock", (-1.5, 2.0), {"gd": hyper("gd", 0.1), "adam": hyper("adam", 0.01)}, 500)
    gd, adam = paths
    assert gd.outcome == "diverged" and 1 <= gd.diverged_at < 20
    assert all(math.isfinite(v) for p in gd.points for v in p)  # what it shows stays finite
    assert adam.outcome == "finished" and len(adam.points) == 501


def test_a_well_chosen_rate_reaches_the_minimum_and_the_race_measures_its_distance():
    (path,) = race("bowl", (-2.5, 1.5), {"momentum": hyper("momentum", 0.05)}, 300, kappa=10.0)
    assert distance(path, "bowl") < 1e-4 and path.losses[-1] < 1e-8
    assert len(path.steps) == 300 and path.steps[0] == pytest.approx(0.05 * math.hypot(2.5, 15.0))


# --- the experiment: its export prints the page's numbers, its CLI answers in JSON ---

import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402

from nnkit.experiments.optimizers import EXPERIMENT, OptimizersParams  # noqa: E402
from nnkit.experiments.optimizers_race import COMMENTS as RACE_COMMENTS  # noqa: E402
from nnkit.experiments.optimizers_triad import COMMENTS as TRIAD_COMMENTS  # noqa: E402


def _script(p, lang, tmp_path):
    path = tmp_path / "race.py"
    path.write_text(EXPERIMENT.export_code(p, lang), encoding="utf-8")
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exported_race_prints_the_pages_numbers_and_agrees_with_torch_optim(lang, tmp_path):
    p = replace(OptimizersParams(), optimizers=tuple(NAMES), lr_gd=0.01, steps=200)  # GD diverges at 0.01
    want = EXPERIMENT.summary(EXPERIMENT.run(p))["optimizers"]
    out = _script(p, lang, tmp_path)
    for name, numbers in want.items():
        line = re.search(rf"^{name}: final loss (\S+), distance to the minimum (\S+), (.+), largest gap to "
                         rf"torch.optim (\S+)$", out, re.M)
        assert float(line[1]) == pytest.approx(numbers["final_loss"], rel=1e-5)
        assert float(line[2]) == pytest.approx(numbers["distance"], rel=1e-5)
        assert line[3] == ("finished" if numbers["outcome"] == "finished" else f"diverged at step {numbers['diverged_at']}")
        assert float(line[4]) < 1e-6
    assert want["gd"]["outcome"] == "diverged"


def test_the_exported_triad_prints_the_pages_numbers(tmp_path):
    p = replace(OptimizersParams(), section="triad", curvature=2.0, x0=-3.0)
    want = EXPERIMENT.summary(EXPERIMENT.run(p))["rates"]
    out = _script(p, "en", tmp_path)
    for kind, numbers in want.items():
        line = re.search(rf"^{kind}: lr \S+, final x (\S+), final loss (\S+)$", out, re.M)
        assert float(line[1]) == pytest.approx(numbers["final_x"], rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("table", [RACE_COMMENTS, TRIAD_COMMENTS])
def test_comment_tables_have_the_same_keys_in_both_languages(table):
    assert set(table["en"]) == set(table["zh"])


def test_cli_gives_each_optimizers_final_loss_and_distance():
    out = subprocess.run([sys.executable, "-m", "nnkit", "run", "optimizers", "--json", "--set",
                          "optimizers=gd,adam", "--set", "lr_gd=0.1"], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)["optimizers"]
    assert set(got) == {"gd", "adam"}
    assert got["gd"]["outcome"] == "diverged" and got["adam"]["outcome"] == "finished"
    assert got["adam"]["distance"] < 1.0 and got["adam"]["final_loss"] < 0.5


# --- stochastic gradients from data ---

from nnkit.experiments import optimizers_data as D  # noqa: E402


def test_the_batch_gradient_equals_autograd_and_the_optimum_is_where_it_vanishes():
    x, y = D.sample(64, 3)
    wb = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    idx = [1, 5, 9, 20]
    torch.mean((wb[0] * torch.tensor(x[idx]) + wb[1] - torch.tensor(y[idx])) ** 2).backward()
    assert np.allclose(D.gradient(0.3, -0.7, x[idx], y[idx]), wb.grad.numpy(), rtol=1e-12)
    assert np.abs(D.gradient(*D.optimum(x, y), x, y)).max() < 1e-12


def test_the_exported_data_script_prints_the_pages_losses(tmp_path):
    p = replace(OptimizersParams(), section="data", samples=64, batch_size=16, data_epochs=4, seed=7)
    want = EXPERIMENT.summary(EXPERIMENT.run(p))["methods"]
    out = _script(p, "zh", tmp_path)
    for method, numbers in want.items():
        line = re.search(rf"^{method}: final loss (\S+)$", out, re.M)
        assert float(line[1]) == pytest.approx(numbers["final_loss"], rel=1e-5)
    assert want["sgd"]["updates"] == 4 * 64 and want["minibatch"]["updates"] == 4 * 4 and want["gd"]["updates"] == 4
