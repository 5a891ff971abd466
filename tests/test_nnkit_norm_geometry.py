"""The L1 diamond and the L2 disc: penalized optima checked against scikit-learn, exact zeros for
L1 only, and each optimum the best point of its constraint region (the picture the page draws)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Lasso, Ridge

from nnkit import norm_geometry as G

X, Y = G.problem(seed=0)
LAMS = np.linspace(0.0, 1.5, 31)


@pytest.mark.parametrize("lam", [0.01, 0.1, 0.4, 1.0])
def test_ridge_and_lasso_match_scikit_learn(lam):
    n = len(Y)
    # sklearn's Ridge minimises ||y - Xw||^2 + a||w||^2, Lasso (1/2n)||y - Xw||^2 + a||w||_1
    ridge = Ridge(alpha=n * lam, fit_intercept=False).fit(X, Y).coef_
    lasso = Lasso(alpha=lam / 2, fit_intercept=False, tol=1e-14, max_iter=1_000_000).fit(X, Y).coef_
    assert np.allclose(G.ridge(X, Y, lam), ridge, atol=1e-10)
    assert np.allclose(G.lasso(X, Y, lam), lasso, atol=1e-8)


def test_l1_zeroes_the_weak_weight_exactly_and_l2_never_does():
    l1, l2 = G.path(X, Y, "l1", LAMS), G.path(X, Y, "l2", LAMS)
    assert np.allclose(l1[0], l2[0]) and np.all(l1[0] != 0)  # lambda 0: both are least squares
    zero = np.flatnonzero(l1[:, 1] == 0.0)
    assert len(zero) > 0 and l1[zero[0], 0] != 0.0  # the weak weight hits exactly 0 first, the strong one stays
    assert np.all(l1[zero[0]:, 1] == 0.0)  # and stays 0 as lambda grows
    assert np.all(l2[1:] != 0.0)  # L2 shrinks both, never to exactly 0
    assert np.all(np.diff(np.abs(l2).sum(axis=1)) < 0)  # ever smaller


@pytest.mark.parametrize("kind", G.KINDS)
@pytest.mark.parametrize("lam", [0.05, 0.3, 0.8])
def test_each_optimum_is_where_the_loss_first_touches_its_region(kind, lam):
    w = G.optimum(X, Y, kind, lam)
    t = G.budget(w, kind)
    angles = np.linspace(0, 2 * np.pi, 20_001)
    if kind == "l2":
        boundary = t * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    else:  # the diamond |w1| + |w2| = t
        c, s = np.cos(angles), np.sin(angles)
        boundary = t * np.stack([c, s], axis=1) / (np.abs(c) + np.abs(s))[:, None]
    losses = np.mean((Y[:, None] - X @ boundary.T) ** 2, axis=0)
    assert losses.min() >= G.loss(X, Y, w) - 1e-6  # nothing on the region's edge does better
    assert G.loss(X, Y, w) > G.loss(X, Y, G.ridge(X, Y, 0.0))  # and it pays for being inside


def test_contours_are_the_loss():
    w1, w2 = np.linspace(-1, 2, 7), np.linspace(-1, 1, 5)
    grid = G.contours(X, Y, w1, w2)
    assert grid.shape == (5, 7)
    assert grid[3, 4] == pytest.approx(G.loss(X, Y, np.array([w1[4], w2[3]])), rel=1e-12)


def test_an_unknown_penalty_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        G.optimum(X, Y, "l3", 0.1)


@pytest.mark.parametrize("kind, lam", [("l1", 0.5), ("l1", 0.1), ("l2", 0.5), ("l2", 2.0)])
def test_the_contour_through_each_optimum_touches_its_region_and_never_enters_it(kind, lam):
    """The picture's claim: the penalized optimum is where a loss contour first touches the diamond
    or the disc, so the contour through it has the same loss everywhere and no point inside."""
    from nnkit.norm_geometry import budget, level_set, loss, optimum, problem

    x, y = problem(0)
    w = optimum(x, y, kind, lam)
    ring = level_set(x, y, w)
    assert [loss(x, y, v) for v in ring] == pytest.approx([loss(x, y, w)] * len(ring), rel=1e-9)
    assert np.allclose(ring[0], ring[-1])  # closed
    sizes = [budget(v, kind) for v in ring]
    assert min(sizes) >= budget(w, kind) - 1e-6  # touches (the optimum is on it) but never enters
    assert min(sizes) == pytest.approx(budget(w, kind), abs=0.01)
