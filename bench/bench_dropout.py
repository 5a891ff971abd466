"""Speed of the Dropout page's default runs, on one CPU core, as ratios against a reference run
side by side in this process.

Each trained section's default run (`nnkit.experiments.dropout.run`; the comparison also with
`dataset=digits`) is timed against a bare textbook loop that trains the same networks (nn.Dropout
included) for the same epochs on the same tensors (full batch, no validation pass, no callback):
the ratio is what the page's extras cost (a validation and a training-set pass after every epoch,
the decision regions, the Monte Carlo passes). Target: each default run under 10 s.

Writes bench/results/dropout.json and prints it.
"""

from __future__ import annotations

import os

from common import ROOT, median_time, save


def bare_loop(p, rates: list[float]) -> None:
    import torch
    from torch import nn

    from nnkit.experiments.dropout_compare import data_of, epochs_of
    from nnkit.models import mlp

    x, y = data_of(p).part("train")
    for rate in rates:
        torch.manual_seed(p.seed)
        model = mlp(x.shape[1], [p.width] * p.depth, int(y.max()) + 1, "relu", dropout=rate)
        opt = torch.optim.Adam(model.parameters(), lr=p.lr)
        model.train()
        for _ in range(epochs_of(p)):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


def sections() -> dict:
    import torch

    from nnkit.experiments.dropout import DropoutParams, run

    torch.set_num_threads(1)  # "on one CPU core"
    out = {}
    for name, p in (("compare_rates", DropoutParams()), ("compare_rates_digits", DropoutParams(dataset="digits")),
                    ("train_eval", DropoutParams(section="train_eval")), ("ensemble", DropoutParams(section="ensemble"))):
        rates = list(p.rates) if p.section == "compare_rates" else [p.rate]
        run(p)  # warm-up
        page_s = median_time(lambda: run(p), 3)
        bare_s = median_time(lambda: bare_loop(p, rates), 3)
        out[name] = {"default_run_s": page_s, "bare_loop_s": bare_s, "ratio_vs_bare": page_s / bare_s,
                        "target_s": 10.0, "ok": page_s < 10.0}
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    save("dropout", {"sections": sections()})
