"""Speed of the Schedulers page's training sections (training, range test, batch size) at their defaults,
on one CPU core, each against a bare torch loop doing the same work side by side in this process
(the same network, batches and epochs, the validation set scored after each epoch). Target: each
section's default run under 10 s.

Writes bench/results/schedulers_training.json and prints it.
"""

from __future__ import annotations

import math
import os

from common import ROOT, median_time, save


def measure() -> dict:
    import torch
    from torch import nn

    from nnkit.experiments import schedulers as S
    from nnkit.experiments.schedulers_training import digits, network

    torch.set_num_threads(1)  # "on one CPU core"
    (x, y), val = digits(0)
    loss_fn = nn.CrossEntropyLoss()

    def bare(runs: int, epochs: int, batch_size: int, adam: bool) -> None:
        for _ in range(runs):
            model = network(0)
            opt = torch.optim.Adam(model.parameters(), 0.01) if adam else torch.optim.SGD(model.parameters(), 0.01,
                                                                                           momentum=0.9)
            for epoch in range(epochs):
                order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
                for i in range(0, len(x), batch_size):
                    idx = order[i:i + batch_size]
                    opt.zero_grad()
                    loss = loss_fn(model(x[idx]), y[idx])
                    loss.item()
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    loss_fn(model(val[0]), val[1]).item()

    p = S.SchedulersParams()
    work = {  # each section's default run, and the bare loop of the same number of batches
        "training": (lambda: bare(3, p.train_epochs, p.train_batch, True), len(p.train_schedules)),
        "range_test": (lambda: bare(1, math.ceil(p.rt_steps / 36) + 3 * p.rt_epochs, p.rt_batch, False), 1),
        "batch_size": (lambda: (bare(1, p.bs_epochs, p.bs_base, False), bare(2, p.bs_epochs, p.bs_base * p.bs_factor,
                                                                             False)), 1),
    }
    out = {}
    for section, (reference, _) in work.items():
        q = S.SchedulersParams(section=section)
        S.run(q)  # warm-up
        ours = median_time(lambda: S.summary(S.run(q)), 3)
        bare_s = median_time(reference, 3)
        out[section] = {"page_run_s": ours, "bare_loop_s": bare_s, "ratio": ours / bare_s}
    out["target_s"] = 10.0
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    save("schedulers_training", measure())
