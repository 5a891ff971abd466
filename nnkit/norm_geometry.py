"""Why L1 gives sparse weights and L2 does not, computed on a two-weight least-squares problem.

The loss J(w) = (1/n)·||y − Xw||² of two correlated inputs has elliptic contours. Adding a penalty
λ·||w||₁ (L1) or λ·||w||₂² (L2) moves the optimum toward 0 as λ grows. Drawn as a constraint, the
penalized optimum is where a loss contour first touches the diamond |w₁| + |w₂| ≤ t (L1) or the
disc w₁² + w₂² ≤ t² (L2) of the same size as the optimum: the diamond's corners sit on the axes,
so that first touch is often a corner, where one weight is exactly 0. The disc has no corners.

Everything here is exact arithmetic in float64, no training: `ridge` is the closed form,
`lasso` is coordinate descent with soft-thresholding (exact per coordinate). tests check both
against scikit-learn's Ridge and Lasso.

    problem(seed, ...)            -> X, y: two correlated inputs, one of them barely useful
    ridge(X, y, lam), lasso(...)  -> the penalized optimum w (2,)
    path(X, y, kind, lams)        -> the optimum for each λ, shape (len(lams), 2)
    contours(X, y, w1, w2)        -> J on a grid, for drawing
    budget(w, kind)               -> t: the size of the diamond or disc that touches at w
"""

from __future__ import annotations

import numpy as np

KINDS = ("l1", "l2")


def problem(seed: int, n: int = 60, correlation: float = 0.6, true_w: tuple[float, float] = (1.5, 0.2),
            noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """n samples of two standardized inputs with the given correlation; y = X·true_w + noise."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, correlation], [correlation, 1.0]])
    x = rng.multivariate_normal([0.0, 0.0], cov, size=n)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = x @ np.asarray(true_w, dtype=float) + noise * rng.standard_normal(n)
    return x, y - y.mean()


def loss(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    return float(np.mean((y - x @ w) ** 2))


def ridge(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin (1/n)||y − Xw||² + λ||w||₂², in closed form: (XᵀX/n + λI)⁻¹ Xᵀy/n."""
    n = len(y)
    return np.linalg.solve(x.T @ x / n + lam * np.eye(x.shape[1]), x.T @ y / n)


def lasso(x: np.ndarray, y: np.ndarray, lam: float, sweeps: int = 10_000, tol: float = 1e-14) -> np.ndarray:
    """argmin (1/n)||y − Xw||² + λ||w||₁ by coordinate descent: each coordinate's exact minimum is a
    soft-threshold, which is where exact zeros come from."""
    n, d = x.shape
    w = np.zeros(d)
    scale = 2.0 / n * (x ** 2).sum(axis=0)
    for _ in range(sweeps):
        before = w.copy()
        for j in range(d):
            residual = y - x @ w + x[:, j] * w[j]
            rho = 2.0 / n * x[:, j] @ residual
            w[j] = np.sign(rho) * max(abs(rho) - lam, 0.0) / scale[j]
        if np.max(np.abs(w - before)) < tol:
            break
    return w


def optimum(x: np.ndarray, y: np.ndarray, kind: str, lam: float) -> np.ndarray:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return lasso(x, y, lam) if kind == "l1" else ridge(x, y, lam)


def path(x: np.ndarray, y: np.ndarray, kind: str, lams) -> np.ndarray:
    """The penalized optimum for each λ (λ = 0 is least squares)."""
    return np.array([optimum(x, y, kind, float(lam)) for lam in lams])


def contours(x: np.ndarray, y: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """J(w) on the grid w1 × w2 (shape (len(w2), len(w1))), from the sufficient statistics."""
    n = len(y)
    a, b = np.meshgrid(w1, w2)
    g = x.T @ x / n
    c = x.T @ y / n
    return (g[0, 0] * a * a + 2 * g[0, 1] * a * b + g[1, 1] * b * b - 2 * (c[0] * a + c[1] * b) + y @ y / n)


def level_set(x: np.ndarray, y: np.ndarray, w: np.ndarray, points: int = 181) -> np.ndarray:
    """The loss contour through w: every w' with J(w') = J(w), an ellipse about the least-squares
    solution (points, 2), closed (its last point is its first). With G = XᵀX/n = LLᵀ, J(w') − J(w_ls)
    = (w' − w_ls)ᵀ G (w' − w_ls), so w' = w_ls + L⁻ᵀ u for every u on the circle of radius
    √(J(w) − J(w_ls))."""
    n = len(y)
    g = x.T @ x / n
    centre = np.linalg.solve(g, x.T @ y / n)
    d = np.asarray(w, dtype=float) - centre
    radius = np.sqrt(max(float(d @ g @ d), 0.0))
    angle = np.linspace(0.0, 2 * np.pi, points)
    u = radius * np.stack([np.cos(angle), np.sin(angle)])
    return centre + np.linalg.solve(np.linalg.cholesky(g).T, u).T


def budget(w: np.ndarray, kind: str) -> float:
    """The size t of the constraint region whose boundary passes through w: ||w||₁ or ||w||₂."""
    return float(np.abs(w).sum() if kind == "l1" else np.sqrt((w ** 2).sum()))
