"""Speed of the Regression page, as ratios against references run side by side in this process.

1. 1,000 iterations of one-variable regression, by hand and with nn.Linear through `fit`,
   against a bare hand-written loop that records nothing. Target: each under 0.3 s.
2. The polynomial sweep (degrees 1-15, torch.linalg.lstsq), against numpy.linalg.lstsq on the
   same features. Target: under 2 s.
3. The page's default run, warm: a rerun that recomputes (result cache dropped), and a plain
   rerun, against a rerun of the home page. Target: under 1 s.

Writes bench/results/regression.json and prints it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from common import median_time, save, server_threads

from nnkit import regression as R
from nnkit.experiments.regression import RegressionParams, run_polynomial


def bare(x, y, lr, iterations):
    w = torch.zeros(1, dtype=R.DTYPE, requires_grad=True)
    b = torch.zeros(1, dtype=R.DTYPE, requires_grad=True)
    for _ in range(iterations):
        loss = ((x * w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()


def one_variable() -> dict:
    x, y = R.make_line(2.0, -1.0, 0.3, 100, 0)
    ref = median_time(lambda: bare(x, y, 0.1, 1000))
    hand = median_time(lambda: R.train_by_hand(x, y, 0.0, 0.0, 0.1, 1000))
    packaged = median_time(lambda: R.train_linear(x, y, 0.0, 0.0, 0.1, 1000))
    return {"bare_loop_s": ref, "by_hand_s": hand, "nn_linear_fit_s": packaged, "by_hand_ratio": hand / ref,
            "nn_linear_ratio": packaged / ref, "target_s": 0.3, "ok": max(hand, packaged) < 0.3}


def polynomial_sweep() -> dict:
    p = replace(RegressionParams(), task="polynomial")
    train, val = R.make_curve(p.truth, p.noise, p.n_points, p.seed)
    xt, yt = train[0].numpy(), train[1].numpy()

    def numpy_sweep():
        for degree in range(1, 16):
            design = np.hstack([xt ** k for k in range(1, degree + 1)] + [np.ones_like(xt)])
            np.linalg.lstsq(design, yt, rcond=None)

    ref = median_time(numpy_sweep)
    ours = median_time(lambda: R.sweep(train, val, range(1, 16)))
    whole = median_time(lambda: run_polynomial(p))
    return {"numpy_sweep_s": ref, "sweep_s": ours, "ratio_vs_numpy": ours / ref, "run_polynomial_s": whole,
            "target_s": 2.0, "ok": whole < 2.0}


def page() -> dict:
    from conftest import open_page, use_navigation_mode

    use_navigation_mode()
    home = open_page("home")
    at = open_page("regression")

    def recompute():  # the result is shared by every session (ui.shared): forget it, so this run computes it
        from ui.shared import results

        store = results()
        for key in [k for k in store.entries if k[0] == "reg"]:
            store.forget(key)
        at.run()

    home_s = median_time(home.run, 9)
    rerun_s = median_time(at.run, 9)
    recompute_s = median_time(recompute, 9)
    return {"home_rerun_s": home_s, "regression_rerun_s": rerun_s, "regression_recompute_s": recompute_s,
            "recompute_ratio_vs_home": recompute_s / home_s, "target_s": 1.0, "ok": recompute_s < 1.0}


if __name__ == "__main__":
    threads = server_threads()
    results = {"one_variable_1000_iterations": one_variable(), "polynomial_sweep": polynomial_sweep(),
               "page": page(), "torch_threads": threads}
    save("regression", results)
