"""Speed of the Optimizers page's race, on one CPU core, as a ratio against a reference run side by
side in this process.

- A race of all eight update rules for 500 steps on Rosenbrock (nnkit.updates.race: the from-scratch
  rules on NumPy arrays, with the analytic gradient) against a plain loop over torch.optim (autograd's
  gradient, optimizer.step()) taking the same steps. Target: the race under 0.3 s.
- The whole page computation (the race and its summary) at the default settings.

Writes bench/results/optimizers.json and prints it.
"""

from __future__ import annotations

import os

from common import ROOT, median_time, save


def measure() -> dict:
    from dataclasses import replace

    import torch

    from nnkit.experiments.optimizers import EXPERIMENT, OptimizersParams
    from nnkit.landscapes import LANDSCAPES
    from nnkit.updates import NAMES, hyper, race, torch_optimizer

    torch.set_num_threads(1)  # "on one CPU core"
    p = replace(OptimizersParams(), optimizers=NAMES, steps=500)
    rules = {name: hyper(name, getattr(p, f"lr_{name}")) for name in NAMES}
    land = LANDSCAPES["rosenbrock"]

    def ours():
        race("rosenbrock", tuple(p.start), rules, 500)

    def plain_torch_optim():
        for name, h in rules.items():
            w = torch.tensor(p.start, dtype=torch.float64, requires_grad=True)
            optimizer = torch_optimizer(name, [w], h)
            for _ in range(500):
                optimizer.zero_grad()
                land.f(w[0], w[1]).backward()
                optimizer.step()

    ours()  # warm-up
    race_s = median_time(ours, 5)
    torch_s = median_time(plain_torch_optim, 3)
    page_s = median_time(lambda: EXPERIMENT.summary(EXPERIMENT.run(p)), 5)
    return {"race_all_500_steps_s": race_s, "torch_optim_loop_s": torch_s, "ratio_vs_torch_optim": race_s / torch_s,
            "page_run_and_summary_s": page_s, "target_s": 0.3}


if __name__ == "__main__":
    os.chdir(ROOT)
    save("optimizers", measure())
