"""Speed of the Dropout page's default runs, on one CPU core, as ratios against a reference run
side by side in this process.

Each trained section's default run (`nnkit.experiments.dropout.run`) is timed against a bare
textbook loop that trains the same networks (nn.Dropout included) for the same epochs on the same
tensors (full batch, no validation pass, no callback): the ratio is what the page's extras cost (a
validation and a training-set pass after every epoch, the decision regions, the Monte Carlo passes).
Target: each default run under 10 s.

Writes bench/results/dropout.json and prints it.
"""

from __future__ import annotations

import os

from common import ROOT, median_time, save


def bare_loop(p, rates: list[float]) -> None:
    import torch
    from torch import nn

    from nnkit import overfitting as O
    from nnkit.models import mlp

    x, y = O.toy_split(p.dataset, p.n_points, p.noise, p.seed).part("train")
    for rate in rates:
        torch.manual_seed(p.seed)
        model = mlp(2, [p.width] * p.depth, 2, "relu", dropout=rate)
        opt = torch.optim.Adam(model.parameters(), lr=p.lr)
        model.train()
        for _ in range(p.epochs):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


def sections() -> dict:
    import torch

    from nnkit.experiments.dropout import DropoutParams, run

    torch.set_num_threads(1)  # "on one CPU core"
    out = {}
    for section in ("compare_rates", "train_eval", "ensemble"):
        p = DropoutParams(section=section)
        rates = list(p.rates) if section == "compare_rates" else [p.rate]
        run(p)  # warm-up
        page_s = median_time(lambda: run(p), 3)
        bare_s = median_time(lambda: bare_loop(p, rates), 3)
        out[section] = {"default_run_s": page_s, "bare_loop_s": bare_s, "ratio_vs_bare": page_s / bare_s,
                        "target_s": 10.0, "ok": page_s < 10.0}
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    save("dropout", {"sections": sections()})
