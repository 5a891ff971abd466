"""Speed of the Gradients page, on one CPU core, as ratios against a reference run side by side in
this process.

- The 50-layer statistics: `nnkit.gradients.first_step` on a 50 x 64 MLP (one forward with hooks,
  one backward, every layer's norm and activation statistics) against a bare forward + backward of
  the same network. Target: under 2 s.
- One training step with the page's before_step (every layer's norm, the total norm, clipping by
  norm) against a bare SGD step with `clip_grad_norm_`. Target: under 0.3 s.
- The by-hand section (every forward, backward and update value written out, and autograd beside it)
  against autograd alone on the same 2-2-1 network. Target: under 0.3 s, the step-through's budget
  per click (the page recomputes it on every click).
- Each trained section's default run against a bare loop training the same networks for the same
  steps.

Writes bench/results/gradients.json and prints it.
"""

from __future__ import annotations

import os

from common import ROOT, median_time, save


def measure() -> dict:
    from dataclasses import replace

    import torch
    from torch import nn

    from nnkit.experiments.gradients import GradientsParams, run
    from nnkit.experiments.gradients_fixes import broken_network, fixed_network
    from nnkit.experiments.gradients_health import build, data
    from nnkit.gradients import first_step, step_hook
    from nnkit.train import fit

    torch.set_num_threads(1)  # "on one CPU core"
    out = {}
    p = replace(GradientsParams(), depth=50, activation="relu", init="kaiming")
    train = data(p)
    loss_fn = nn.CrossEntropyLoss()
    model = build(p, "relu", "kaiming", False, False)

    def bare_pass():
        model.zero_grad()
        loss_fn(model(train[0]), train[1]).backward()

    first_step(model, loss_fn, *train, "relu")  # warm-up
    stats_s = median_time(lambda: first_step(model, loss_fn, *train, "relu"), 5)
    bare_s = median_time(bare_pass, 5)
    out["stats_50_layers"] = {"seconds": stats_s, "bare_pass_s": bare_s, "ratio_vs_bare": stats_s / bare_s,
                              "target_s": 2.0, "ok": stats_s < 2.0}

    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    hook = step_hook("norm", 1.0)
    step_s = median_time(lambda: fit(model, loss_fn, optimizer, train, epochs=1, before_step=hook), 5)

    def bare_step():
        optimizer.zero_grad()
        loss_fn(model(train[0]), train[1]).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    bare_step_s = median_time(bare_step, 5)
    out["step_50_layers"] = {"seconds": step_s, "bare_step_s": bare_step_s, "ratio_vs_bare": step_s / bare_step_s,
                             "target_s": 0.3, "ok": step_s < 0.3}

    from nnkit import backprop

    q = GradientsParams(section="by_hand")
    hand_s = median_time(lambda: run(q), 20)
    bare_hand_s = median_time(lambda: backprop.autograd(q.hand_x, q.hand_y, q.hand_weights, q.activation,
                                                        q.hand_loss), 20)
    out["by_hand"] = {"seconds": hand_s, "autograd_alone_s": bare_hand_s, "ratio_vs_bare": hand_s / bare_hand_s,
                      "target_s": 0.3, "ok": hand_s < 0.3}

    for section in ("health", "fixes"):
        q = GradientsParams(section=section)
        setups = [broken_network(q), fixed_network(q)] if section == "fixes" else [
            {"activation": q.activation, "init": q.init, "batch_norm": q.batch_norm, "residual": q.residual,
             "clip": "none"}]

        def bare_loop():
            x, y = data(q)
            for s in setups:
                net = build(q, s["activation"], s["init"], s["batch_norm"], s["residual"])
                opt = torch.optim.SGD(net.parameters(), lr=q.lr)
                for _ in range(q.epochs):
                    opt.zero_grad()
                    loss_fn(net(x), y).backward()
                    opt.step()

        page_s = median_time(lambda: run(q), 3)
        bare = median_time(bare_loop, 3)
        out[section] = {"default_run_s": page_s, "bare_loop_s": bare, "ratio_vs_bare": page_s / bare}
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    save("gradients", measure())
