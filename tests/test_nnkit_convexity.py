"""Loss functions and convexity (nnkit.convexity, the Optimizers page's loss_functions section): each
f'' equals autograd's, the second-derivative test gives the right verdict (f'' ≥ 0, not f'' > 0),
Jensen's chord, the NLL against PyTorch's own Gaussian NLL, and the export printing the page's
numbers. Also the race's gradient clipping, against torch.nn.utils.clip_grad_norm_."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnkit import convexity as C
from nnkit.experiments.optimizers import EXPERIMENT, OptimizersParams
from nnkit.experiments.optimizers_convexity import COMMENTS, FORMULAS
from nnkit.updates import clip_norm, hyper, race


@pytest.mark.parametrize("name", list(C.FUNCTIONS))
def test_each_second_derivative_equals_autograd(name):
    fn = C.FUNCTIONS[name]
    x = torch.linspace(*C.DOMAIN, C.GRID, dtype=torch.float64, requires_grad=True)
    d1, = torch.autograd.grad(fn.f(x).sum(), x, create_graph=True)
    d2 = torch.autograd.grad(d1.sum(), x)[0] if d1.requires_grad else torch.zeros_like(x)
    ours = np.broadcast_to(np.asarray(fn.d2(C.grid()), dtype=float), (C.GRID,))
    assert np.abs(ours - d2.detach().numpy()).max() < 1e-9
    assert np.allclose(np.asarray(fn.f(C.grid()), dtype=float), fn.f(x).detach().numpy(), atol=1e-12)  # same f both ways
    assert eval(f"lambda x: {FORMULAS[name]}", {"torch": torch})(x).detach().numpy() == pytest.approx(
        fn.f(x).detach().numpy(), abs=1e-12)  # the export's formula is the same function


@pytest.mark.parametrize("name", list(C.FUNCTIONS))
def test_the_test_finds_what_each_function_is(name):
    r = C.second_derivative_test(name)
    assert r["convex"] == C.FUNCTIONS[name].convex
    assert (r["min_d2"] >= 0) == C.FUNCTIONS[name].convex


def test_f_double_prime_zero_somewhere_is_still_convex_the_notes_test_would_say_otherwise():
    quartic, line = C.second_derivative_test("quartic"), C.second_derivative_test("affine")
    assert quartic["convex"] and not quartic["strict"] and quartic["min_d2"] == pytest.approx(0, abs=1e-12)
    assert quartic["argmin_d2"] == pytest.approx(0, abs=1e-12)
    assert line["convex"] and not line["strict"] and line["min_d2"] == 0  # f'' = 0 everywhere: a line, convex
    assert C.second_derivative_test("square")["strict"]


def test_the_region_where_the_double_well_bends_down():
    r = C.second_derivative_test("double_well")  # f'' = 3x² − 2 < 0 for |x| < √(2/3) = 0.8165
    (low, high), = r["regions"]
    step = (C.DOMAIN[1] - C.DOMAIN[0]) / (C.GRID - 1)
    assert -math.sqrt(2 / 3) <= low < -math.sqrt(2 / 3) + step and math.sqrt(2 / 3) - step < high <= math.sqrt(2 / 3)
    assert r["min_d2"] == -2.0 and r["negative_share"] == pytest.approx(65 / 241)
    assert C.second_derivative_test("sigmoid_mse")["regions"][0][1] == pytest.approx(-math.log(2), abs=step)


def test_jensen_holds_for_every_convex_function_and_fails_for_the_double_well():
    rng = np.random.default_rng(0)
    for name in C.CONVEX:
        for a, b, lam in rng.uniform([-3, -3, 0], [3, 3, 1], size=(50, 3)):
            assert C.jensen(name, float(a), float(b), float(lam))["holds"], (name, a, b, lam)
    j = C.jensen("double_well", -2.0, 1.5, 0.5)  # the page's default
    assert j["x"] == -0.25 and j["f_x"] == pytest.approx(0.25 ** 4 / 4 - 0.0625)
    assert j["chord"] == pytest.approx((0.0 + (1.5 ** 4 / 4 - 2.25)) / 2)
    assert not j["holds"] and j["gap"] < -0.4 and j["min_gap"] <= j["gap"]


def test_the_nll_is_pytorchs_gaussian_nll_and_a_scaled_shifted_mse():
    r = C.likelihood(40, 0.7, 3)
    x, y = C.sample(40, 0.7, 3)
    w = torch.tensor(r["w"], dtype=torch.float64)
    theirs = torch.stack([torch.nn.GaussianNLLLoss(full=True, reduction="sum")(wi * x, y, torch.full_like(y, 0.49))
                          for wi in w])
    assert np.allclose(r["nll"], theirs.numpy(), rtol=1e-12)
    assert r["identity_error"] < 1e-9 and r["scale"] == pytest.approx(40 / (2 * 0.49))
    assert r["const"] == pytest.approx(20 * math.log(2 * math.pi * 0.49))
    assert r["argmin_nll"] == r["argmin_mse"] == pytest.approx(r["best_w"], abs=1e-12)
    assert r["nll_at_best"] == pytest.approx(r["scale"] * r["mse_at_best"] + r["const"], rel=1e-12)


def _script(p, lang, tmp_path) -> str:
    path = tmp_path / "exported.py"
    path.write_text(EXPERIMENT.export_code(p, lang), encoding="utf-8")
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exported_script_prints_the_pages_numbers(lang, tmp_path):
    p = replace(OptimizersParams(), section="loss_functions", convex_fn="quartic", nonconvex_fn="sigmoid_mse",
                point_a=-2.5, point_b=0.4, lam=0.3, sigma=1.7, mle_samples=35, seed=4)
    want = EXPERIMENT.summary(EXPERIMENT.run(p))
    out = _script(p, lang, tmp_path)
    for name, test in want["test"].items():
        line = re.search(rf"^{name}: min f'' (\S+) at x = (\S+), share with f'' < 0 (\S+), convex (\w+)$", out, re.M)
        assert float(line[1]) == pytest.approx(test["min_d2"], rel=1e-5, abs=1e-9)
        assert float(line[2]) == pytest.approx(test["argmin_d2"], rel=1e-5, abs=1e-9)
        assert float(line[3]) == pytest.approx(test["negative_share"], rel=1e-5)
        assert line[4] == str(test["convex"])
        j = want["jensen"][name]
        line = re.search(rf"^{name}: f\(lam a \+ \(1-lam\) b\) (\S+), lam f\(a\) \+ \(1-lam\) f\(b\) (\S+), gap (\S+)$",
                         out, re.M)
        assert [float(v) for v in line.groups()] == pytest.approx([j["f_x"], j["chord"], j["gap"]], rel=1e-5)
    m = want["likelihood"]
    line = re.search(r"^least squares w (\S+), MSE (\S+), NLL (\S+), n/\(2 sigma\^2\) (\S+), const (\S+), .* (\S+)$",
                     out, re.M)
    assert [float(v) for v in line.groups()[:5]] == pytest.approx(
        [m["best_w"], m["mse_at_best"], m["nll_at_best"], m["scale"], m["const"]], rel=1e-5)
    assert abs(float(line[6])) < 1e-9
    assert want["test"]["sigmoid_mse"]["convex"] is False and want["test"]["quartic"]["convex"] is True


def test_comment_tables_have_the_same_keys_in_both_languages():
    assert set(COMMENTS["en"]) == set(COMMENTS["zh"])


def test_cli_gives_the_sections_numbers():
    out = subprocess.run([sys.executable, "-m", "nnkit", "run", "optimizers", "--json", "--set", "section=loss_functions",
                          "--set", "convex_fn=square", "--set", "point_a=3"], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["test"]["square"]["strict"] is True and got["test"]["double_well"]["convex"] is False
    assert got["jensen"]["square"]["a"] == 3.0 and got["likelihood"]["identity_error"] < 1e-9


# --- the race's gradient clipping ---

@pytest.mark.parametrize("scale", [0.0, 1e-3, 0.5, 1.0, 3.0, 1e4])
def test_clipping_equals_clip_grad_norm(scale):
    g = np.array([0.6, -0.8]) * scale
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_([w], 1.0)
    assert np.allclose(clip_norm(g, 1.0), w.grad.numpy(), rtol=1e-14, atol=0)  # to the last bits
    assert np.linalg.norm(clip_norm(g, 1.0)) <= 1.0


def test_with_clipping_gd_no_longer_jumps_off_the_cliff():
    """GD at lr 0.2 from the slope: at the cliff's edge the gradient is about 50, so one step is
    thrown 8.4 across the plot (6 wide); clipped to norm 1, no step is longer than 0.2."""
    rules = {"gd": hyper("gd", 0.2)}
    plain, = race("cliff", (2.5, 1.5), rules, 300)
    clipped, = race("cliff", (2.5, 1.5), rules, 300, max_norm=1.0)
    assert max(clipped.steps) <= 0.2 * 1.0 + 1e-12
    assert max(plain.steps) > 30 * 0.2 * 1.0  # 8.35
    assert all(-3 <= x <= 3 for x, _ in clipped.points)  # it stays on the map


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exported_race_clips_as_clip_grad_norm_does(lang, tmp_path):
    p = replace(OptimizersParams(), landscape="cliff", start=(2.5, 1.5), optimizers=("gd", "momentum", "adam"),
                lr_gd=0.2, lr_momentum=0.02, clip=True, max_norm=0.5, steps=200)
    want = EXPERIMENT.summary(EXPERIMENT.run(p))["optimizers"]
    out = _script(p, lang, tmp_path)
    for name, numbers in want.items():
        line = re.search(rf"^{name}: final loss (\S+), distance to the minimum (\S+), .+, largest gap to torch.optim (\S+)$",
                         out, re.M)
        assert float(line[1]) == pytest.approx(numbers["final_loss"], rel=1e-5)
        assert float(line[2]) == pytest.approx(numbers["distance"], rel=1e-5, abs=1e-9)
        assert float(line[3]) < 1e-6
    assert want["gd"]["largest_step"] <= 0.2 * 0.5 + 1e-12
