"""Two-dimensional toy classification sets that no straight line separates.

`make_toy2d` uses NumPy only and is self-contained on purpose: the code export copies its source
into the script a learner downloads, so the app and the script draw the very same points.
"""

import numpy as np

TOY2D_NAMES = ("circles", "xor", "moons", "spiral")


def make_toy2d(name, n_points, noise, seed):
    """Return (x, y): float32 points of shape (n_points, 2) and int64 labels 0/1."""
    rng = np.random.default_rng(seed)
    n1 = n_points // 2
    n0 = n_points - n1
    if name == "circles":  # a ring around a disc
        angle = rng.uniform(0, 2 * np.pi, n_points)
        radius = np.concatenate([rng.uniform(0.0, 0.5, n0), rng.uniform(0.8, 1.2, n1)])
        x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        y = np.concatenate([np.zeros(n0), np.ones(n1)])
    elif name == "xor":  # class 1 where the two coordinates have the same sign
        x = rng.uniform(-1, 1, (n_points, 2))
        x += 0.1 * np.sign(x)  # a small gap along the axes keeps the labels unambiguous
        y = (x[:, 0] * x[:, 1] > 0).astype(float)
    elif name == "moons":  # two interleaved half circles
        t0 = rng.uniform(0, np.pi, n0)
        t1 = rng.uniform(0, np.pi, n1)
        upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
        lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
        x = np.concatenate([upper, lower]) - np.array([0.5, 0.25])
        y = np.concatenate([np.zeros(n0), np.ones(n1)])
    elif name == "spiral":  # two arms winding around each other
        t = np.concatenate([rng.uniform(0.25, 1, n0), rng.uniform(0.25, 1, n1)])
        arm = np.concatenate([np.zeros(n0), np.ones(n1)])
        angle = 3 * np.pi * t + np.pi * arm
        x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
        y = arm
    else:
        raise ValueError(f"unknown toy dataset {name!r}; choose from circles, xor, moons, spiral")
    x = x + noise * rng.standard_normal(x.shape)
    return x.astype(np.float32), y.astype(np.int64)
