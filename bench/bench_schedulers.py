"""Speed of the Schedulers page's curves, on one CPU core, as a ratio against a reference run side by
side in this process.

- Every scheduler over 10,000 steps (epochs=10,000 of one batch, so per-batch and per-epoch ones alike
  step 10,000 times): the page's redraw (nnkit's run with its summary, the chart rows thinned for the
  browser, the chart spec) against a plain loop that builds the same torch schedulers and steps each
  10,000 times, reading the rate. Target (issue 13): the redraw under 0.3 s.
- The page's computation at the default settings, and of the placement section.

Writes bench/results/schedulers.json and prints it.
"""

from __future__ import annotations

import os
import statistics

from common import ROOT, median_time, save


def measure() -> dict:
    from dataclasses import replace

    import torch
    from torch.optim import lr_scheduler as L

    from nnkit.experiments.schedulers import EXPERIMENT, SchedulersParams
    from nnkit.schedules import NAMES
    from ui import charts
    from ui.schedulers.curves import curve_rows

    torch.set_num_threads(1)  # "on one CPU core"
    steps = 10_000
    p = replace(SchedulersParams(), schedulers=NAMES, epochs=steps, steps_per_epoch=1, t_max=steps, t_0=100)
    build_spec = charts.schedules.__wrapped__  # uncached: what a changed setting costs

    def ours():
        result = EXPERIMENT.run(p)
        EXPERIMENT.summary(result)
        build_spec(curve_rows(result), "epoch", "learning rate")

    def plain_torch_loop():
        makers = [lambda o: L.StepLR(o, 10, 0.5), lambda o: L.MultiStepLR(o, [15, 25], 0.1),
                  lambda o: L.ExponentialLR(o, 0.9), lambda o: L.CosineAnnealingLR(o, steps),
                  lambda o: L.CosineAnnealingWarmRestarts(o, 100, 2),
                  lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.01, total_iters=100),
                                               L.CosineAnnealingLR(o, steps - 100)], [100]),
                  lambda o: L.OneCycleLR(o, 0.1, total_steps=steps), lambda o: L.ReduceLROnPlateau(o, factor=0.5)]
        for i, make in enumerate(makers):
            optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
            scheduler = make(optimizer)
            rates = [optimizer.param_groups[0]["lr"]]
            for _ in range(steps - 1):
                scheduler.step(1.0) if i == len(makers) - 1 else scheduler.step()
                rates.append(optimizer.param_groups[0]["lr"])

    import warnings

    warnings.simplefilter("ignore")  # the plain loop calls no optimizer.step(): torch's order warning
    ours()  # warm-up: the first scheduler built in a process pays for torch's lazy imports
    plain_torch_loop()
    # interleaved, so that a busy neighbour on this machine slows both alike
    pairs = [(median_time(ours, 1), median_time(plain_torch_loop, 1)) for _ in range(7)]
    redraw_s, torch_s = statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)
    defaults_s = median_time(lambda: EXPERIMENT.summary(EXPERIMENT.run(replace(SchedulersParams(), schedulers=NAMES))), 5)
    placement_s = median_time(lambda: EXPERIMENT.summary(EXPERIMENT.run(SchedulersParams(section="placement"))), 5)
    return {"redraw_every_scheduler_10000_steps_s": redraw_s, "plain_torch_scheduler_loop_s": torch_s,
            "ratio_vs_torch_loop": redraw_s / torch_s, "target_s": 0.3,
            "defaults_every_scheduler_s": defaults_s, "placement_defaults_s": placement_s}


if __name__ == "__main__":
    os.chdir(ROOT)
    save("schedulers", measure())
