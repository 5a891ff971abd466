"""Speed of the Overfitting page's default runs, on one CPU core, as ratios against a reference
run side by side in this process.

For each section the default run (`nnkit.experiments.overfitting.run`) is timed against a bare
textbook loop that trains the same networks for the same epochs on the same tensors (full batch,
no validation pass, no callback): the ratio is what the page's extras cost (a validation and a
training-set pass after every epoch, the records). Target: each default run under 10 s.

Writes bench/results/overfitting.json and prints it.
"""

from __future__ import annotations

import os
from dataclasses import replace

from common import ROOT, median_time, save


def bare_loop(shapes: list[list[int]], x, y, p, n_out: int = 2) -> None:
    import torch
    from torch import nn

    from nnkit.models import mlp

    loss_fn = nn.CrossEntropyLoss() if n_out == 2 else nn.MSELoss()
    for hidden in shapes:
        torch.manual_seed(p.seed)
        model = mlp(x.shape[1], hidden, n_out, "relu")
        opt = torch.optim.Adam(model.parameters(), lr=p.lr)
        for _ in range(p.epochs):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()


def reference(p) -> None:
    from nnkit import overfitting as O
    from nnkit.experiments.overfitting_capacity import DEPTHS, MODELS, TRAIN_SIZES, WIDTHS

    if p.section == "capacity":
        x, y = O.toy_split(p.dataset, p.n_points, p.noise, p.seed).part("train")
        bare_loop([[w] for w in WIDTHS] + [[p.depth_width] * d for d in DEPTHS[1:]], x, y, p)
    elif p.section in ("early_stopping", "regularization"):
        from nnkit.experiments.overfitting import epochs_total
        from nnkit.experiments.overfitting_regularization import WIDE

        # the same number of wide networks for the same epochs, all by Adam, without penalty or snapshots
        x, y = O.toy_split(p.dataset, p.n_points, p.noise, p.seed).part("train")
        bare_loop([WIDE] * (epochs_total(p) // p.epochs), x, y, p)
    elif p.section == "approximation":
        x, y = O.curve_split(80, p.seed).part("train")
        bare_loop([[p.units]], x, y, replace(p, lr=p.approx_lr, epochs=p.approx_epochs), n_out=1)
    elif p.section == "validation":  # K folds per candidate width, then the chosen one on every non-test point
        from nnkit.experiments.overfitting_validation import CANDIDATES, pool_of
        from nnkit.kfold import kfold_splits

        data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
        pool = pool_of(data)
        for width in CANDIDATES:
            for train, _ in kfold_splits(len(pool), p.folds, p.seed, data.y[pool]):
                bare_loop([[width]], data.x[pool[train]], data.y[pool[train]], p)
        bare_loop([[CANDIDATES[0]]], data.x[pool], data.y[pool], p)
    elif p.section == "augmentation":  # two digit networks on the subset, one fed fresh augmented copies
        from nnkit.augment import augment
        from nnkit.experiments.overfitting_validation import digit_parts, strength

        import torch
        from torch import nn

        from nnkit.models import mlp

        images, labels = digit_parts(p)["train"]
        for augmented in (False, True):
            torch.manual_seed(p.seed)
            model = mlp(64, [64], 10, "relu")
            opt = torch.optim.Adam(model.parameters(), lr=0.01)
            for epoch in range(p.aug_epochs):
                seen = augment(images, p.seed + epoch, **strength(p)) if augmented else images
                opt.zero_grad()
                nn.functional.cross_entropy(model(seen.flatten(1).float() / 255), labels).backward()
                opt.step()
    else:
        x, y = O.toy_split(p.dataset, 3 * max(TRAIN_SIZES), p.noise, p.seed).part("train")
        for hidden in MODELS.values():
            for size in TRAIN_SIZES:
                bare_loop([hidden], x[:size], y[:size], p)


def sections() -> dict:
    import torch

    from nnkit.experiments.overfitting import SECTIONS, OverfittingParams, run

    torch.set_num_threads(1)  # "on one CPU core"
    out = {}
    for section in SECTIONS:
        p = OverfittingParams(section=section)
        run(p)  # warm-up
        page_s = median_time(lambda: run(p), 3)
        bare_s = median_time(lambda: reference(p), 3)
        out[section] = {"default_run_s": page_s, "bare_loop_s": bare_s, "ratio_vs_bare": page_s / bare_s,
                        "target_s": 10.0, "ok": page_s < 10.0}
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    save("overfitting", {"sections": sections()})
