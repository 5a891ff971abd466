"""Speed of the Optimizers page's race, on one CPU core, as a ratio against a reference run side by
side in this process.

- A race of all eight update rules for 500 steps on Rosenbrock (nnkit.updates.race: the from-scratch
  rules on NumPy arrays, with the analytic gradient) against a plain loop over torch.optim (autograd's
  gradient, optimizer.step()) taking the same steps. Target: the race under 0.3 s.
- The whole page computation (the race and its summary) at the default settings.
- The network section at its defaults (one digits MLP per optimizer, 20 epochs on 300 digits) against
  a bare loop of the same work on the same tensors: torch.optim, the same seeded batches, both sets
  scored after each epoch. Target: under 10 s.
- The loss-functions section at its defaults against the same numbers by autograd (f'' by a second
  backward pass on the grid, the NLL and MSE over the same slopes).

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
    net_s, bare_s = network()
    return {**_convexity(), "network_default_s": net_s, "network_bare_loop_s": bare_s,
            "network_ratio_vs_bare_loop": net_s / bare_s, "network_target_s": 10.0, "race_all_500_steps_s": race_s,
            "torch_optim_loop_s": torch_s, "ratio_vs_torch_optim": race_s / torch_s,
            "page_run_and_summary_s": page_s, "target_s": 0.3}


def network() -> tuple[float, float]:
    """Seconds of the network section's default run (data loading included), and of a bare loop."""
    from dataclasses import replace

    import torch
    from torch import nn

    from nnkit.experiments.dropout_compare import digit_split
    from nnkit.experiments.optimizers import EXPERIMENT, OptimizersParams
    from nnkit.experiments.optimizers_network import HIDDEN, phases
    from nnkit.optim import FUSED, OPTIMIZERS

    p = replace(OptimizersParams(), section="network")
    data = digit_split(p)
    (x, y), val = data.part("train"), data.part("val")
    loss_fn = nn.CrossEntropyLoss()

    def bare():
        for name in p.net_optimizers:
            torch.manual_seed(p.seed)
            model, epoch = nn.Sequential(nn.Linear(64, HIDDEN[0]), nn.ReLU(), nn.Linear(HIDDEN[0], 10)), 0
            for factory, settings, epochs in phases(p, name):
                optimizer = OPTIMIZERS[factory](model.parameters(), **settings, **({"fused": True} if factory in FUSED
                                                                                    else {}))
                for _ in range(epochs):
                    model.train()
                    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(p.seed + epoch))
                    for idx in order.split(p.net_batch_size):
                        optimizer.zero_grad()
                        loss_fn(model(x[idx]), y[idx]).backward()
                        optimizer.step()
                    model.eval()
                    with torch.no_grad():
                        for xs, ys in ((x, y), val):
                            out = model(xs)
                            loss_fn(out, ys).item(), (out.argmax(1) == ys).sum().item()
                    epoch += 1

    EXPERIMENT.run(p)  # warm-up (the digits' first load)
    return median_time(lambda: EXPERIMENT.summary(EXPERIMENT.run(p)), 3), median_time(bare, 3)


def _convexity() -> dict:
    from dataclasses import replace

    import torch

    from nnkit import convexity as C
    from nnkit.experiments.optimizers import EXPERIMENT, OptimizersParams

    p = replace(OptimizersParams(), section="loss_functions")

    def by_autograd():
        x = torch.linspace(*C.DOMAIN, C.GRID, dtype=torch.float64, requires_grad=True)
        for name in (p.convex_fn, p.nonconvex_fn):
            d1, = torch.autograd.grad(C.FUNCTIONS[name].f(x).sum(), x, create_graph=True)
            torch.autograd.grad(d1.sum(), x)
        xs, ys = C.sample(p.mle_samples, p.sigma, p.seed)
        ws = torch.linspace(0.0, 4.0, 201, dtype=torch.float64)
        C.mse(ws, xs, ys), C.nll(ws, xs, ys, p.sigma)

    page_s = median_time(lambda: EXPERIMENT.summary(EXPERIMENT.run(p)), 5)
    reference_s = median_time(by_autograd, 5)
    return {"loss_functions_page_s": page_s, "loss_functions_autograd_s": reference_s,
            "loss_functions_ratio": page_s / reference_s}


if __name__ == "__main__":
    os.chdir(ROOT)
    save("optimizers", measure())
