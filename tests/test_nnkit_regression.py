"""nnkit.regression and the Regression experiment: by hand vs nn.Linear, closed form, features, CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnkit import regression as R
from nnkit.experiments.regression import RegressionParams, run, run_linear, summary

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 180


def default_line(**overrides):
    p = RegressionParams(**overrides)
    return R.make_line(p.true_w, p.true_b, p.noise, p.n_points, p.seed)


def direct_mse(x, y, w, b) -> float:
    """mean((w x + b - y)^2) computed straight from the data, no algebra."""
    return float(((w * x + b - y) ** 2).mean())


# --- one variable: by hand and nn.Linear ----------------------------------------------------------

@pytest.mark.parametrize("zero_grad", [True, False])
@pytest.mark.parametrize("init", ["zeros", "randn", "randn_w", "constant"])
def test_by_hand_and_nn_linear_take_the_same_steps(init, zero_grad):
    x, y = default_line()
    w0, b0 = R.initial_weights(init, 1.5, seed=0)
    if init == "constant":
        assert (w0, b0) == (1.5, 1.5)
    elif init == "zeros":
        assert (w0, b0) == (0.0, 0.0)
    elif init == "randn_w":  # the course's start: w = torch.randn(1), b = torch.zeros(1)
        g = torch.Generator().manual_seed(1)
        assert (w0, b0) == (torch.randn(1, generator=g, dtype=torch.float64).item(), 0.0) and w0 != 0.0
    else:
        assert (w0, b0) != (0.0, 0.0) and (w0, b0) == R.initial_weights("randn", 0.0, seed=0)  # seeded
    hand = R.train_by_hand(x, y, w0, b0, lr=0.1, iterations=200, zero_grad=zero_grad)
    lin = R.train_linear(x, y, w0, b0, lr=0.1, iterations=200, zero_grad=zero_grad)
    assert hand.outcome == lin.outcome == "completed"
    # parameters before each of the 200 steps, then the final ones; one loss per step
    assert len(hand.w) == len(lin.w) == len(hand.b) == len(lin.b) == 201
    assert len(hand.loss) == len(lin.loss) == 200
    assert hand.w[0] == lin.w[0] == w0 and hand.b[0] == lin.b[0] == b0
    np.testing.assert_allclose(hand.w, lin.w, rtol=0, atol=1e-6)
    np.testing.assert_allclose(hand.b, lin.b, rtol=0, atol=1e-6)
    np.testing.assert_allclose(hand.loss, lin.loss, rtol=1e-9, atol=1e-9)
    # the first loss is the MSE at the starting point
    assert hand.loss[0] == pytest.approx(direct_mse(x, y, w0, b0), rel=1e-12)
    # and the parameters really moved (without zero_grad they may swing back near the start)
    assert max(abs(w - w0) for w in hand.w) > 0.1


def test_gradient_descent_reaches_least_squares():
    x, y = default_line()
    best_w, best_b = R.least_squares(x, y).tolist()
    for trainer in (R.train_by_hand, R.train_linear):
        trace = trainer(x, y, 0.0, 0.0, lr=0.1, iterations=2000)
        assert trace.outcome == "completed"
        # tolerance 1e-6: the error shrinks by ~0.8 per step, so after 2000 steps only rounding is left
        assert abs(trace.w[-1] - best_w) < 1e-6
        assert abs(trace.b[-1] - best_b) < 1e-6
        # the loss only goes down on this convex problem at this lr
        assert all(b <= a + 1e-12 for a, b in zip(trace.loss, trace.loss[1:]))
    # least squares is a minimum: moving away in any direction raises the MSE
    at_best = direct_mse(x, y, best_w, best_b)
    for dw, db in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):
        assert direct_mse(x, y, best_w + dw, best_b + db) > at_best


@pytest.mark.parametrize("n_features", [1, 3])
def test_stable_lr_is_where_gradient_descent_stops_converging(n_features):
    """Just under stable_lr, nn.Linear + SGD settles; just over it, the loss grows without bound."""
    if n_features == 1:
        x, y = default_line()
    else:
        x, y = R.make_features([1.5, -2.0, 0.5], -1.0, noise=0.2, n_points=50, spread=3.0, seed=0)
    limit = R.stable_lr(x)
    under = R.train_multi(x, y, 0.97 * limit, 3000, standardize=False)
    over = R.train_multi(x, y, 1.03 * limit, 3000, standardize=False)
    best = R.least_squares(x, y)
    np.testing.assert_allclose(under.weights, best[:-1].numpy(), atol=1e-6)
    assert over.outcome == "diverged" or over.loss[-1] > 1e6 * over.loss[0]


def test_closed_form_finds_the_true_line_with_low_noise():
    x, y = R.make_line(2.0, -1.0, noise=0.01, n_points=100, seed=3)
    w, b = R.least_squares(x, y).tolist()
    # standard error ~ noise / sqrt(n) = 0.001: 0.01 is ten of them
    assert abs(w - 2.0) < 0.01 and abs(b + 1.0) < 0.01
    # and with no noise at all it is exact
    x, y = R.make_line(-3.5, 0.7, noise=0.0, n_points=20, seed=1)
    w, b = R.least_squares(x, y).tolist()
    assert w == pytest.approx(-3.5, abs=1e-12) and b == pytest.approx(0.7, abs=1e-12)


def test_make_line_is_seeded_and_in_range():
    x1, y1 = R.make_line(2.0, -1.0, 0.3, 50, seed=7)
    x2, y2 = R.make_line(2.0, -1.0, 0.3, 50, seed=7)
    x3, _ = R.make_line(2.0, -1.0, 0.3, 50, seed=8)
    assert x1.shape == y1.shape == (50, 1) and x1.dtype == torch.float64
    assert torch.equal(x1, x2) and torch.equal(y1, y2) and not torch.equal(x1, x3)
    assert float(x1.min()) >= -2.0 and float(x1.max()) <= 2.0
    assert float(x1.max() - x1.min()) > 3.0  # spread over the range, not bunched


def test_forgetting_zero_grad_changes_the_result():
    p = RegressionParams()  # defaults: lr 0.1, 200 iterations, zeros init
    x, y = default_line()
    w0, b0 = R.initial_weights(p.init, p.init_value, p.seed)
    zeroed = R.train_linear(x, y, w0, b0, p.lr, p.iterations, zero_grad=True)
    piled_hand = R.train_by_hand(x, y, w0, b0, p.lr, p.iterations, zero_grad=False)
    piled_lin = R.train_linear(x, y, w0, b0, p.lr, p.iterations, zero_grad=False)
    assert abs(piled_lin.w[-1] - zeroed.w[-1]) > 1e-3
    assert abs(piled_hand.w[-1] - zeroed.w[-1]) > 1e-3
    # the forgotten zero_grad is the same mistake both ways
    np.testing.assert_allclose(piled_hand.w, piled_lin.w, rtol=0, atol=1e-6)
    np.testing.assert_allclose(piled_hand.b, piled_lin.b, rtol=0, atol=1e-6)
    # and the experiment passes the setting through
    res = run_linear(RegressionParams(zero_grad=False))
    assert res["by_hand"].w[-1] == pytest.approx(piled_hand.w[-1], abs=1e-12)
    assert res["nn_linear"].w[-1] == pytest.approx(piled_lin.w[-1], abs=1e-12)


def test_huge_learning_rate_diverges_without_exception():
    x, y = default_line()
    hand = R.train_by_hand(x, y, 0.0, 0.0, lr=10.0, iterations=200)
    lin = R.train_linear(x, y, 0.0, 0.0, lr=10.0, iterations=200)
    assert hand.outcome == lin.outcome == "diverged"
    assert len(hand.loss) < 200 and len(lin.loss) < 200  # stopped early
    assert all(math.isfinite(v) for v in hand.loss + lin.loss)  # only finite losses are recorded
    assert hand.loss[-1] > 1e100  # it blew up before it stopped

    s = summary(run_linear(RegressionParams(lr=10.0)))
    for name in ("by_hand", "nn_linear"):
        assert s[name]["outcome"] == "diverged"
        assert s[name]["w"] is None and s[name]["b"] is None
    assert math.isfinite(s["least_squares"]["w"])
    text = json.dumps(s, allow_nan=False)  # raises on inf / NaN
    assert json.loads(text) == s


# --- the loss surface ----------------------------------------------------------------------------

def test_loss_surface_matches_the_mse():
    x, y = default_line()
    best = R.least_squares(x, y)
    best_w, best_b = best.tolist()
    best_mse = R.mse(x, y, best)
    assert best_mse == pytest.approx(direct_mse(x, y, best_w, best_b), rel=1e-12)
    size = 50
    w_range, b_range = (best_w - 1.3, best_w + 0.9), (best_b - 0.7, best_b + 1.6)  # off-centre on purpose
    surf = R.loss_surface(x, y, w_range, b_range, size)
    assert surf["w"].shape == surf["b"].shape == surf["loss"].shape == (size * size,)
    hw, hb = (w_range[1] - w_range[0]) / (size - 1), (b_range[1] - b_range[0]) / (size - 1)
    i, j = round((best_w - w_range[0]) / hw), round((best_b - b_range[0]) / hb)
    k = i * size + j  # meshgrid "ij", flattened: w varies slowest
    assert surf["w"][k] == pytest.approx(w_range[0] + i * hw, abs=1e-12)
    assert surf["b"][k] == pytest.approx(b_range[0] + j * hb, abs=1e-12)
    assert abs(surf["w"][k] - best_w) <= hw / 2 + 1e-12 and abs(surf["b"][k] - best_b) <= hb / 2 + 1e-12
    # loss - best = dw^2 mean(x^2) + 2 dw db mean(x) + db^2, with |dw| <= hw/2, |db| <= hb/2
    mxx, mx = float((x * x).mean()), float(x.mean())
    bound = mxx * (hw / 2) ** 2 + 2 * abs(mx) * (hw / 2) * (hb / 2) + (hb / 2) ** 2
    assert 0 <= surf["loss"][k] - best_mse <= bound + 1e-12
    assert bound < 0.01  # a small tolerance indeed
    # the grid's lowest point is the one nearest the optimum
    assert int(np.argmin(surf["loss"])) == k
    # a few grid values against mean((w x + b - y)^2) computed directly
    for idx in (0, size - 1, size * size - 1, k, 17 * size + 31, 40 * size + 3):
        assert surf["loss"][idx] == pytest.approx(direct_mse(x, y, surf["w"][idx], surf["b"][idx]), rel=1e-10, abs=1e-10)


def test_run_linear_surface_covers_the_path_and_the_optimum():
    res = run_linear(RegressionParams())
    surf = res["surface"]
    best_w, best_b = res["least_squares"]
    assert surf["w"].min() < min(res["by_hand"].w + [best_w]) and surf["w"].max() > max(res["by_hand"].w + [best_w])
    assert surf["b"].min() < min(res["by_hand"].b + [best_b]) and surf["b"].max() > max(res["by_hand"].b + [best_b])
    assert np.isfinite(surf["loss"]).all()
    assert surf["loss"].min() >= res["least_squares_mse"] - 1e-12


# --- many variables -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def features():
    x, y = R.make_features([1.5, -2.0, 0.5], -1.0, noise=0.3, n_points=100, spread=10.0, seed=0)
    return x, y, R.least_squares(x, y)


def test_make_features_scales_go_from_one_to_spread(features):
    x, y, _ = features
    assert x.shape == (100, 3) and y.shape == (100, 1)
    std = x.std(dim=0)
    # scales 1, sqrt(10), 10: the sample stds are within 25% of those
    np.testing.assert_allclose(std.numpy(), [1.0, 10 ** 0.5, 10.0], rtol=0.25)


def test_standardized_features_reach_least_squares(features):
    x, y, coef = features
    fit = R.train_multi(x, y, lr=0.1, iterations=300, standardize=True)
    assert fit.outcome == "completed" and len(fit.loss) == 300
    # weights come back in the units of the original features: the least-squares ones
    np.testing.assert_allclose(fit.weights, coef[:-1].numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(fit.weights, [1.5, -2.0, 0.5], atol=0.1)
    # the training loss (on standardized features) ends at the least-squares MSE
    assert fit.loss[-1] == pytest.approx(R.mse(x, y, coef), rel=1e-6)


def test_standardized_bias_is_in_original_units(features):
    """The bias maps back too: b - sum(w_std * mean / std), not b - sum(w_std * mean) (an earlier bug)."""
    x, y, coef = features
    fit = R.train_multi(x, y, lr=0.1, iterations=300, standardize=True)
    assert fit.bias == pytest.approx(float(coef[-1]), abs=1e-4)
    predicted = x.numpy() @ fit.weights + fit.bias
    assert float(((predicted - y.numpy().ravel()) ** 2).mean()) == pytest.approx(R.mse(x, y, coef), rel=1e-6)
    # what the experiment's summary reports (the page and the CLI show it)
    res = run(RegressionParams(task="multiple"))
    assert summary(res)["standardized"]["bias"] == pytest.approx(res["least_squares_bias"], abs=1e-4)


def test_raw_features_diverge_at_the_same_lr_and_need_a_small_one(features):
    x, y, coef = features
    raw = R.train_multi(x, y, lr=0.1, iterations=300, standardize=False)
    assert raw.outcome == "diverged"
    slow = R.train_multi(x, y, lr=1e-3, iterations=300, standardize=False)
    assert slow.outcome == "completed" and len(slow.loss) == 300
    assert np.isfinite(slow.weights).all() and math.isfinite(slow.bias)
    assert slow.loss[-1] < slow.loss[0] / 10
    # unstandardized training returns the weights as they are; with enough steps they reach least squares
    long = R.train_multi(x, y, lr=1e-3, iterations=5000, standardize=False)
    np.testing.assert_allclose(long.weights, coef[:-1].numpy(), atol=5e-3)
    assert long.bias == pytest.approx(float(coef[-1]), abs=5e-3)


def test_train_multi_reports_steps_through_the_callback(features):
    x, y, _ = features
    events = []
    fit = R.train_multi(x, y, lr=0.1, iterations=20, standardize=True, callback=events.append)
    steps = [e for e in events if e["event"] == "step"]
    assert [e["loss"] for e in steps] == fit.loss and len(steps) == 20


# --- a learner's own columns --------------------------------------------------------------------

def test_fit_columns_recovers_known_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.2]
    y = x @ np.array([2.0, -1.0, 3.0]) + 4.0 + 0.01 * rng.normal(size=200)
    res = R.fit_columns(x, y, degree=1, lr=0.1, iterations=500)
    assert res["r2"] > 0.99
    np.testing.assert_allclose(res["least_squares"], [2.0, -1.0, 3.0], atol=0.01)
    assert res["least_squares_bias"] == pytest.approx(4.0, abs=0.01)
    assert res["gd"].outcome == "completed"
    np.testing.assert_allclose(res["gd"].weights, res["least_squares"], atol=1e-4)
    assert res["predicted"].shape == (200,)
    np.testing.assert_allclose(res["predicted"], y, atol=0.05)


def test_fit_columns_gradient_descent_bias_matches_least_squares():
    """Off-centre columns: the bias the own-data page shows beside least squares must be the same."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.2] + [3.0, -2.0, 1.0]
    y = x @ np.array([2.0, -1.0, 3.0]) + 4.0 + 0.01 * rng.normal(size=200)
    res = R.fit_columns(x, y, degree=1, lr=0.1, iterations=500)
    assert res["gd"].bias == pytest.approx(res["least_squares_bias"], abs=1e-3)


def test_fit_columns_constant_column_stays_finite():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=100), np.full(100, 7.0)])
    y = 2.0 * x[:, 0] + 1.0 + 0.01 * rng.normal(size=100)
    res = R.fit_columns(x, y, degree=1, lr=0.1, iterations=300)
    gd = res["gd"]
    assert gd.outcome == "completed"
    for values in (gd.weights, [gd.bias], res["least_squares"], [res["least_squares_bias"]], [res["r2"]],
                   res["predicted"], gd.loss):
        assert np.isfinite(values).all()
    assert res["r2"] > 0.99
    assert gd.weights[0] == pytest.approx(2.0, abs=0.01)
    assert res["least_squares"][0] == pytest.approx(2.0, abs=0.01)
    # the constant column and the bias share one effect: 7 * w1 + b is the intercept
    assert 7.0 * res["least_squares"][1] + res["least_squares_bias"] == pytest.approx(1.0, abs=0.01)
    # ... so its weight is not determined: the two methods differ there, and the result says why
    assert res["constant"] == [1] and (res["rank"], res["terms"]) == (1, 1)
    assert abs(gd.weights[1] - res["least_squares"][1]) > 0.01


def test_fit_columns_says_when_weights_or_r2_are_undetermined():
    x = np.arange(10.0)[:, None]
    only_constant = R.fit_columns(np.full((10, 1), 5.0), 2 * x[:, 0], degree=3, lr=0.1, iterations=50)
    assert only_constant["constant"] == [0] and only_constant["r2"] == pytest.approx(0.0, abs=1e-12)
    assert (only_constant["rank"], only_constant["terms"]) == (0, 0)
    doubled = R.fit_columns(np.column_stack([x, 2 * x]), x[:, 0] ** 2, degree=1, lr=0.1, iterations=50)
    assert doubled["constant"] == [] and (doubled["rank"], doubled["terms"]) == (1, 2)
    # three different x values: x^3 is a combination of 1, x and x^2 there
    few = R.fit_columns(np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]]), np.arange(6.0), degree=3, lr=0.1,
                        iterations=50)
    assert (few["rank"], few["terms"]) == (2, 3)
    full = R.fit_columns(x, x[:, 0] ** 2, degree=3, lr=0.1, iterations=50)
    assert (full["rank"], full["terms"]) == (3, 3) and full["constant"] == []
    assert np.isnan(R.fit_columns(x, np.full(10, 7.0), degree=1, lr=0.1, iterations=50)["r2"])  # nothing to explain


def test_fit_columns_degree_two_fits_a_quadratic():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(100, 1))
    y = 3.0 * x[:, 0] ** 2 - x[:, 0] + 0.5 + 0.001 * rng.normal(size=100)
    res = R.fit_columns(x, y, degree=2, lr=0.1, iterations=2000)
    np.testing.assert_allclose(res["least_squares"], [-1.0, 3.0], atol=0.01)  # x, then x^2
    assert res["least_squares_bias"] == pytest.approx(0.5, abs=0.01)
    assert res["r2"] > 0.999
    np.testing.assert_allclose(res["gd"].weights, res["least_squares"], atol=1e-3)
    # a straight line cannot fit it as well
    assert R.fit_columns(x, y, degree=1, lr=0.1, iterations=100)["r2"] < 0.5


# --- polynomial ---------------------------------------------------------------------------------

def test_powers_are_the_explicit_columns():
    x = torch.tensor([[-1.5], [0.0], [0.5], [2.0]], dtype=torch.float64)
    expected = torch.tensor([[-1.5, 2.25, -3.375], [0, 0, 0], [0.5, 0.25, 0.125], [2.0, 4.0, 8.0]],
                            dtype=torch.float64)
    assert torch.equal(R.powers(x, 3), expected)
    assert torch.equal(R.powers(x, 1), x)


def test_make_curve_split_is_70_30_and_disjoint():
    (xt, yt), (xv, yv) = R.make_curve("cubic", 0.3, 100, seed=0)
    assert len(xt) == len(yt) == 70 and len(xv) == len(yv) == 30
    # the same draw of x as make_curve: train and validation together are exactly these points
    g = torch.Generator().manual_seed(0)
    x_all = torch.rand(100, 1, generator=g, dtype=torch.float64) * 2 - 1
    assert torch.equal(torch.sort(torch.cat([xt, xv]).flatten()).values, torch.sort(x_all.flatten()).values)
    assert not set(xt.flatten().tolist()) & set(xv.flatten().tolist())
    assert len(set(x_all.flatten().tolist())) == 100
    # noise-free: y is the truth at each x
    (xt, yt), _ = R.make_curve("sine", 0.0, 100, seed=0)
    assert torch.allclose(yt, torch.sin(torch.pi * xt), atol=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_sweep_training_error_falls_and_high_degrees_overfit(seed):
    """Defaults (sine, noise 0.2, 20 points): training MSE never rises with the degree, and degree 15
    does far worse on validation than degree 3, for each of seeds 0..4."""
    res = run(RegressionParams(task="polynomial", seed=seed))
    sweep = res["sweep"]
    assert sweep["degree"] == list(range(1, 16))
    train = sweep["train_mse"]
    assert all(b <= a + 1e-12 for a, b in zip(train, train[1:])), train
    val = dict(zip(sweep["degree"], sweep["val_mse"]))
    assert val[15] > 100 * val[3]
    # degree 3 has the right shape: its errors are of the order of the noise variance 0.2^2
    assert 0.01 < train[2] < 0.05 and 0.02 < val[3] < 0.2


def test_default_validation_curve_is_u_shaped():
    """At the defaults the lowest validation error lies strictly inside the sweep, and both ends are
    clearly worse (measured: 0.030 at degree 3, 0.47 at degree 1, 7.8e9 at degree 15)."""
    s = summary(run(RegressionParams(task="polynomial")))
    val = s["sweep"]["val_mse"]
    best = s["best_degree"]
    assert 1 < best < 15 and val[best - 1] == min(val)
    assert val[0] > 5 * min(val) and val[-1] > 1000 * min(val)
    assert s["labels"] == {"best": best, "underfit": [d for d in range(1, best) if val[d - 1] >= 2 * min(val)],
                           "overfit": [d for d in range(best + 1, 16) if val[d - 1] >= 2 * min(val)]}
    assert 1 in s["labels"]["underfit"] and 15 in s["labels"]["overfit"]


@pytest.mark.parametrize("val, best, underfit, overfit", [
    ([0.174, 0.19, 0.125, 0.125, 0.123, 0.121, 0.135, 0.154], 6, [], []),  # old defaults: nothing clear
    ([0.9, 0.5, 0.3, 0.2, 0.1], 5, [1, 2, 3, 4], []),  # still improving at the end: no overfitting
    ([0.1, 0.3, 0.9], 1, [], [2, 3]),  # a line is best: no underfitting
    ([0.5, 0.1, 0.15, 0.4], 2, [1], [4]),
])
def test_fit_labels_follow_the_numbers(val, best, underfit, overfit):
    sweep = {"degree": list(range(1, len(val) + 1)), "train_mse": [0.0] * len(val), "val_mse": val}
    assert R.fit_labels(sweep) == {"best": best, "underfit": underfit, "overfit": overfit}


def test_fit_labels_leave_the_ends_unlabelled_on_the_old_defaults():
    """100 points of the noisy cubic: degree 15 beat degree 1 on validation; neither end earns a label."""
    train, val = R.make_curve("cubic", 0.3, 100, seed=0)
    labels = R.fit_labels(R.sweep(train, val, range(1, 16)))
    assert labels == {"best": 6, "underfit": [], "overfit": []}


def test_run_polynomial_fitted_curve_follows_the_truth():
    res = run(RegressionParams(task="polynomial", truth="cubic", noise=0.0, degree=3))
    np.testing.assert_allclose(res["coef"], [-1.0, 0.0, 2.0, 0.0], atol=1e-9)  # x, x^2, x^3, bias
    np.testing.assert_allclose(res["fitted"], res["truth"], atol=1e-9)


# --- dispatch and the command line ---------------------------------------------------------------

@pytest.mark.parametrize("task", ["linear", "multiple", "polynomial"])
def test_run_dispatches_on_task(task):
    res = run(RegressionParams(task=task, iterations=50))
    assert res["task"] == task
    expected = {"linear": {"by_hand", "nn_linear", "surface"}, "multiple": {"fits", "scales"},
                "polynomial": {"sweep", "fitted"}}[task]
    assert expected <= set(res)
    s = summary(res)
    assert s["task"] == task
    json.dumps(s, allow_nan=False)


CLI = {
    "linear": ["run", "regression", "--set", "task=linear", "--json"],
    "multiple": ["run", "regression", "--set", "task=multiple", "--json"],
    "polynomial": ["run", "regression", "--set", "task=polynomial", "--json"],
    "bad_task": ["run", "regression", "--set", "task=quadratic", "--json"],
}


@pytest.fixture(autouse=True, scope="module")
def _cli_started():
    """Start the command-line runs with the module's first test, so they overlap the in-process tests."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNKIT_DEVICE")}
    env["OMP_NUM_THREADS"] = "1"
    procs = {name: subprocess.Popen([sys.executable, "-m", "nnkit", *args], cwd=ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, args in CLI.items()}
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def cli(_cli_started) -> dict[str, subprocess.CompletedProcess]:
    done = {}
    for name, proc in _cli_started.items():
        out, err = proc.communicate(timeout=TIMEOUT)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


@pytest.mark.parametrize("task", ["linear", "multiple", "polynomial"])
def test_cli_prints_one_json_object(cli, task):
    r = cli[task]
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0], parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))
    assert isinstance(data, dict) and data["task"] == task
    # the printed summary is the one the library computes with the defaults
    assert data == json.loads(json.dumps(summary(run(RegressionParams(task=task)))))


def test_cli_rejects_an_unknown_task(cli):
    r = cli["bad_task"]
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnkit:")
    assert "quadratic" in lines[0]
