"""nnkit.activations: curves and their derivatives, saturation zones, softmax with temperature."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnkit.activations import (ACTIVATIONS, CURVE_NAMES, SATURATION_THRESHOLD, curve,
                               saturation_zones, softmax)

SLOPE = 0.2  # a leaky slope different from the default, so that passing it on is checked


# Independent definitions of f, straight from torch.nn.functional.
REFERENCE_F = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, SLOPE),
    "elu": F.elu,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
}


def _std_normal_pdf(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _std_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


# Closed-form derivatives, written by hand (no autograd).
CLOSED_FORM_DF = {
    "sigmoid": lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x)),
    "tanh": lambda x: 1 - torch.tanh(x) ** 2,
    "relu": lambda x: (x > 0).double(),
    "leaky_relu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, SLOPE)),
    "elu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.exp(x)),
    "gelu": lambda x: _std_normal_cdf(x) + x * _std_normal_pdf(x),
    "silu": lambda x: torch.sigmoid(x) * (1 + x * (1 - torch.sigmoid(x))),
    "softplus": torch.sigmoid,
}

X_MIN, X_MAX, POINTS = -6.0, 6.0, 241  # x = -6.0, -5.95, ..., 6.0 (0.0 is one of them)


def test_curve_names_are_every_activation_but_none():
    assert set(CURVE_NAMES) == set(ACTIVATIONS) - {"none"}
    assert set(CURVE_NAMES) == set(REFERENCE_F)  # every curve is covered below


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_curve_f_matches_torch_functional(name):
    c = curve(name, X_MIN, X_MAX, POINTS, leaky_slope=SLOPE)
    x = torch.linspace(X_MIN, X_MAX, POINTS, dtype=torch.float64)
    assert c.name == name
    assert c.x.shape == c.f.shape == c.df.shape == (POINTS,)
    assert c.x[0] == X_MIN and c.x[-1] == X_MAX
    np.testing.assert_allclose(c.x, x.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.f, REFERENCE_F[name](x).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_curve_df_matches_full_jacobian_diagonal(name):
    """f' against the full Jacobian: its diagonal is f', and the function is element-wise."""
    c = curve(name, X_MIN, X_MAX, POINTS, leaky_slope=SLOPE)
    x = torch.linspace(X_MIN, X_MAX, POINTS, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(REFERENCE_F[name], x)
    assert jac.shape == (POINTS, POINTS)
    np.testing.assert_allclose(c.df, torch.diagonal(jac).numpy(), rtol=1e-10, atol=1e-12)
    off_diagonal = jac - torch.diag(torch.diagonal(jac))
    assert torch.count_nonzero(off_diagonal) == 0


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_curve_df_matches_per_element_grad(name):
    c = curve(name, X_MIN, X_MAX, POINTS, leaky_slope=SLOPE)
    for i in range(0, POINTS, 12):  # every 12th point, x = -6, -5.4, ..., 0, ..., 6
        xi = torch.tensor(float(c.x[i]), dtype=torch.float64, requires_grad=True)
        (gi,) = torch.autograd.grad(REFERENCE_F[name](xi), xi)
        assert c.df[i] == pytest.approx(gi.item(), rel=1e-10, abs=1e-12), (name, c.x[i])


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_curve_df_matches_closed_form(name):
    c = curve(name, X_MIN, X_MAX, POINTS, leaky_slope=SLOPE)
    x = torch.from_numpy(c.x)
    expected = CLOSED_FORM_DF[name](x).numpy()
    # relu, leaky_relu, elu have a kink at 0 where the derivative is a convention; skip x = 0.
    away_from_zero = np.abs(c.x) > 1e-9
    np.testing.assert_allclose(c.df[away_from_zero], expected[away_from_zero], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_curve_df_matches_finite_differences(name):
    c = curve(name, X_MIN, X_MAX, POINTS, leaky_slope=SLOPE)
    h = 1e-6
    f = REFERENCE_F[name]
    for xv, dfv in zip(c.x, c.df):
        if abs(xv) < 1e-3:  # the kink at 0
            continue
        xv_t = torch.tensor([xv - h, xv + h], dtype=torch.float64)
        lo, hi = f(xv_t).tolist()
        assert dfv == pytest.approx((hi - lo) / (2 * h), abs=1e-6), (name, xv)


def test_closed_form_examples():
    """A few derivatives everyone knows, by value."""
    sig = curve("sigmoid", -2.0, 2.0, 5)
    np.testing.assert_allclose(sig.x, [-2, -1, 0, 1, 2])
    s = 1 / (1 + np.exp(-sig.x))
    np.testing.assert_allclose(sig.df, s * (1 - s), rtol=1e-12)
    assert sig.df[2] == pytest.approx(0.25)
    tanh = curve("tanh", -2.0, 2.0, 5)
    np.testing.assert_allclose(tanh.df, 1 - np.tanh(tanh.x) ** 2, rtol=1e-12)
    assert tanh.df[2] == pytest.approx(1.0)
    relu = curve("relu", -2.0, 2.0, 5)
    np.testing.assert_array_equal(relu.f, [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(relu.df[[0, 1, 3, 4]], [0, 0, 1, 1])


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_f_and_df_at_0_are_taken_at_0_even_off_the_grid(name):
    """-5.5..6 in 201 points: the grid point nearest 0 is 0.02; f(0) and f'(0) must not be read there."""
    c = curve(name, -5.5, 6.0, 201, leaky_slope=SLOPE)
    assert np.abs(c.x).min() == pytest.approx(0.02)
    zero = torch.zeros(1, dtype=torch.float64)
    assert c.f_at_0 == pytest.approx(REFERENCE_F[name](zero).item(), abs=1e-15)
    assert c.df_at_0 == pytest.approx(CLOSED_FORM_DF[name](zero).item(), abs=1e-15)


def test_f_and_df_at_0_by_value():
    assert (curve("sigmoid", -5.5, 6.0).f_at_0, curve("sigmoid", -5.5, 6.0).df_at_0) == (0.5, 0.25)
    assert (curve("tanh", -5.5, 6.0).f_at_0, curve("tanh", -5.5, 6.0).df_at_0) == (0.0, 1.0)
    assert (curve("gelu", -5.5, 6.0).f_at_0, curve("gelu", -5.5, 6.0).df_at_0) == (0.0, 0.5)


def test_leaky_relu_uses_the_slope():
    for slope in (0.01, 0.2, 0.5):
        c = curve("leaky_relu", -4.0, 4.0, 9, leaky_slope=slope)
        np.testing.assert_allclose(c.f[:4], slope * c.x[:4], rtol=1e-12)
        np.testing.assert_allclose(c.f[5:], c.x[5:], rtol=1e-12)
        np.testing.assert_allclose(c.df[:4], slope, rtol=1e-12)
        np.testing.assert_allclose(c.df[5:], 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_module_and_code_compute_the_same_function(name):
    """The layer in a network, and the layer as exported source, compute fn(x, slope)."""
    act = ACTIVATIONS[name]
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    expected = act.fn(x, SLOPE)
    torch.testing.assert_close(act.module(SLOPE)(x), expected, rtol=0, atol=0)
    exported = eval(act.code.format(slope=SLOPE), {"nn": nn})  # noqa: S307 - our own table
    torch.testing.assert_close(exported(x), expected, rtol=0, atol=0)


# --- saturation zones ---------------------------------------------------------------------------

def test_saturation_zones_on_a_hand_made_array():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    df = np.array([0.0, -0.005, 0.5, 1.0, 0.001, 0.3, 0.009, 0.0099, 0.002])
    assert saturation_zones(x, df) == [(0.0, 1.0), (4.0, 4.0), (6.0, 8.0)]


def test_saturation_zones_edges_and_threshold():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert saturation_zones(x, np.ones(5)) == []
    assert saturation_zones(x, np.zeros(5)) == [(-2.0, 2.0)]
    # the threshold is strict: |f'| equal to it is not saturated
    assert saturation_zones(x, np.array([0.01, 0.0, 0.01, 1.0, -0.001])) == [(-1.0, -1.0), (2.0, 2.0)]
    assert saturation_zones(x, np.array([0.3, 0.3, 0.2, 0.3, 0.3]), threshold=0.25) == [(0.0, 0.0)]
    assert SATURATION_THRESHOLD == 0.01
    zones = saturation_zones(x, np.array([1.0, 0.0, 0.0, 1.0, 1.0]))
    assert zones == [(-1.0, 0.0)]
    assert all(type(a) is float and type(b) is float for a, b in zones)


def test_sigmoid_saturates_symmetrically_beyond_about_4_6():
    c = curve("sigmoid", -10.0, 10.0, 201)  # step 0.1
    assert len(c.saturated) == 2
    (a0, a1), (b0, b1) = c.saturated
    assert a0 == -10.0 and b1 == 10.0
    assert a1 == pytest.approx(-b0, abs=1e-9)  # symmetric about 0
    # s(1 - s) = 0.01 at s = (1 + sqrt(0.96)) / 2, i.e. |x| = ln(s / (1 - s)) ~= 4.585; on a
    # 0.1 grid the first saturated point is 4.6.
    boundary = math.log((1 + math.sqrt(1 - 0.04)) / (1 - math.sqrt(1 - 0.04)))
    assert 4.58 < boundary < 4.59
    assert b0 == pytest.approx(4.6, abs=1e-9)
    assert a1 == pytest.approx(-4.6, abs=1e-9)
    inside = np.abs(c.x) < 4.55
    assert np.all(c.df[inside] >= 0.01)


def test_relu_saturates_exactly_for_x_below_zero():
    c = curve("relu", -5.0, 5.0, 200)  # even count: 0 is not a grid point
    assert len(c.saturated) == 1
    start, end = c.saturated[0]
    assert start == -5.0
    assert end == c.x[c.x < 0].max()
    assert end < 0
    assert np.all(c.df[c.x > 0] == 1.0)


def test_tanh_saturates_on_both_sides_only():
    c = curve("tanh", -5.0, 5.0, 201)  # step 0.05
    (a0, a1), (b0, b1) = c.saturated
    assert a0 == -5.0 and b1 == 5.0
    assert a1 == pytest.approx(-b0, abs=1e-9)
    # 1 - tanh(x)^2 < 0.01  <=>  |x| > atanh(sqrt(0.99)) ~= 2.99
    assert 2.99 < b0 < 3.05


# --- softmax ------------------------------------------------------------------------------------

@pytest.mark.parametrize("logits, temperature", [
    ([2.0, 1.0, 0.1, -1.0], 1.0),
    ([2.0, 1.0, 0.1, -1.0], 0.3),
    ([0.5, -3.0], 4.0),
    ([10.0, 10.0, 10.0], 1.0),
])
def test_softmax_matches_torch_and_sums_to_one(logits, temperature):
    p = softmax(logits, temperature)
    expected = torch.softmax(torch.tensor(logits, dtype=torch.float64) / temperature, dim=0).numpy()
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(p > 0)
    # by hand
    e = np.exp(np.array(logits) / temperature)
    np.testing.assert_allclose(p, e / e.sum(), rtol=1e-12)


def test_lower_temperature_sharpens():
    logits = [2.0, 1.0, 0.1, -1.0]
    tops = [softmax(logits, t).max() for t in (10.0, 2.0, 1.0, 0.5, 0.1)]
    assert all(a < b for a, b in zip(tops, tops[1:])), tops
    assert softmax(logits, 0.1).max() > 0.99
    assert softmax(logits, 10.0).max() < 0.3
    # the order of the probabilities follows the logits at every temperature
    for t in (0.1, 1.0, 10.0):
        assert list(np.argsort(-softmax(logits, t))) == [0, 1, 2, 3]


def test_softmax_large_logits_are_stable():
    p = softmax([1000.0, 999.0, 0.0])
    assert np.all(np.isfinite(p))
    assert p.sum() == pytest.approx(1.0)
    assert p[0] == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-12)
    assert p[1] == pytest.approx(math.exp(-1) / (1 + math.exp(-1)), rel=1e-12)
    assert p[2] < 1e-300 or p[2] == 0.0
    q = softmax([1000.0, 1000.0], temperature=0.1)
    np.testing.assert_allclose(q, [0.5, 0.5])
    r = softmax([-1000.0, 0.0])
    assert np.all(np.isfinite(r)) and r[1] == pytest.approx(1.0)
