"""The Overfitting page's training-side remedies: early stopping and weight penalties.

"early_stopping" trains a wide network (two hidden layers of 64 units) that overfits the noisy toy
set within the default epochs, with nnkit.stopping.EarlyStopping listening. The run goes on to the
last epoch: up to the epoch where the listener stops, it is exactly the early-stopped run (fit's
batches depend on the epoch number alone), and the rest shows what training on would have given.
The stopped weights and the restored (best on validation) weights are each scored once on the test
set. Measured (moons, 150 points, noise 0.3, patience 20, seed 0): best epoch 44 (validation loss
0.178), stopped at 64, validation loss 0.879 after all 300 epochs.

"regularization" trains the same network with the penalty lam * sum |w|^p (nnkit.regularize,
weights only) for the chosen p and lam, without it, and for a sweep of lam; compares an L2 penalty
in the loss with the optimizers' weight_decay (SGD: the same trajectory; Adam vs AdamW: not); and
computes the two-weight picture of why L1 gives exact zeros (nnkit.norm_geometry). Measured
(defaults, seed 0): SGD + L2 and SGD(weight_decay) differ by at most 6e-8 over 100 epochs, Adam + L2
and AdamW by up to 1.2 (validation loss 0.194 vs 0.287); with L1, |w| < 0.01 for 79%, 97%, 99% of
the weights at lam = 0.0001, 0.001, 0.003 (4.5% without a penalty); the L1 optimum of the two-weight
problem has an exact zero from lam = 0.3 on, the L2 optimum never.
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch

from nnkit import norm_geometry as G
from nnkit import overfitting as O
from nnkit.experiments.base import Guided, Section
from nnkit.experiments.overfitting_capacity import final_losses, training
from nnkit.experiments.overfitting_regularization_export import export_code
from nnkit.regularize import norm_penalty, weights
from nnkit.stopping import EarlyStopping
from nnkit.train import StopTraining

WIDE = [64, 64]  # overfits the default toy set within 300 epochs (validation loss 0.18 -> 0.88, seed 0)
LAMBDAS = (1e-4, 1e-3, 1e-2)  # the penalty sweep (the chosen lam joins it)
NEAR_ZERO = 0.01  # |w| below this counts as zero: Adam's steps of about lr = 0.01 keep weights jittering around 0
SGD_LR = 0.1  # the SGD pair of the weight-decay comparison
# its runs: long enough for Adam and AdamW to part (by up to 1.2 at seed 0), short enough to keep the
# default run under 10 s (with 300 epochs it took 10.3 s on a busy 2-core machine)
DECAY_EPOCHS = 100
PAIRS = ("sgd", "adam")  # SGD + L2 vs SGD(weight_decay); Adam + L2 vs AdamW(weight_decay)
DECAYED = {"sgd": "sgd", "adam": "adamw"}
GEO_LAMS = np.round(np.linspace(0.0, 1.5, 61), 6)  # the geometry's path of optima
GEO_GRID = 60  # loss contours on a GEO_GRID x GEO_GRID grid


def _tagged(callback, listener):
    """One callback: `listener` first, then the page's (whose Stop raises StopTraining)."""
    def listen(event):
        listener(event)
        if callback is not None:
            callback(event)
    return listen


class StopWatch:
    """EarlyStopping on a run that goes on: where the listener would stop training, keep the weights
    (what the early-stopped run ends with) and stop consulting it."""

    def __init__(self, stopper: EarlyStopping):
        self.stopper, self.stopped_state = stopper, None

    def __call__(self, event: dict) -> None:
        if self.stopped_state is None:
            try:
                self.stopper(event)
            except StopTraining:
                self.stopped_state = copy.deepcopy(self.stopper.model.state_dict())


def run_early_stopping(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    model = O.network(data, WIDE, "relu", p.seed)
    watch = StopWatch(EarlyStopping(model, p.patience, p.min_delta))
    full = O.train_one(data, WIDE, model=model, callback=_tagged(callback, watch), **training(p))
    stopper = watch.stopper
    result = {"section": "early_stopping", "data": data, "full": full, "best_epoch": stopper.best_epoch,
              "stopped_epoch": stopper.stopped_epoch, "stopped": full.outcome == "stopped"}
    end = stopper.stopped_epoch if stopper.stopped_epoch is not None else len(full.history) - 1
    stopped = O.network(data, WIDE, "relu", p.seed)
    stopped.load_state_dict(watch.stopped_state or model.state_dict())
    # the early-stopped run ends as the full one did when it never stopped early (a divergence included)
    outcome = full.outcome if end == len(full.history) - 1 else "completed"
    result["early"] = O.Trained(WIDE, full.params, outcome, full.history[:end + 1], stopped)
    if not result["stopped"] and stopper.best_state is not None:
        restored = O.network(data, WIDE, "relu", p.seed)
        restored.load_state_dict(stopper.best_state)
        result.update(restored=restored, test=O.score(restored, data.part("test")),
                      test_stopped=O.score(stopped, data.part("test")))
    return result


def near_zero(model) -> float:
    """The share of the weights (not biases) with |w| < NEAR_ZERO."""
    w = torch.cat([q.detach().flatten() for q in weights(model)])
    return float((w.abs() < NEAR_ZERO).float().mean())


def flat(model) -> torch.Tensor:
    return torch.cat([q.detach().flatten() for q in model.parameters()])


def trajectory(data, p, callback, **how) -> tuple[O.Trained, torch.Tensor]:
    """One training of the wide network and its parameters after every epoch: (epochs, n_params)."""
    model = O.network(data, WIDE, "relu", p.seed)
    snaps = []
    trained = O.train_one(data, WIDE, model=model, callback=_tagged(
        callback, lambda e: e["event"] == "epoch" and snaps.append(flat(model))), **{**training(p), **how})
    return trained, torch.stack(snaps) if snaps else torch.zeros(0)


def decay_runs(data, p, callback) -> dict:
    """For each pair: the L2 penalty (wd/2)*||w||^2 in the loss vs the optimizer's weight_decay = wd."""
    l2 = lambda m: norm_penalty(m, 2, p.weight_decay / 2)  # noqa: E731 - its gradient is wd * w
    out = {}
    for name in PAIRS:
        lr = SGD_LR if name == "sgd" else p.lr
        how = {"lr": lr, "epochs": DECAY_EPOCHS}
        penalized, a = trajectory(data, p, callback, optimizer=name, penalty=l2, **how)
        if penalized.outcome == "stopped":
            return out
        decayed, b = trajectory(data, p, callback, optimizer=DECAYED[name], weight_decay=p.weight_decay, **how)
        if decayed.outcome == "stopped":
            return out
        out[name] = {"penalty": penalized, "decay": decayed, "max_diff": float((a - b).abs().max())}
    return out


def geometry(p) -> dict:
    """The two-weight least-squares problem: loss contours, the L1 and L2 optima at geo_lam, their
    paths over lam, and the smallest lam on the path where the L1 optimum has an exact zero."""
    x, y = G.problem(p.seed)
    paths = {kind: G.path(x, y, kind, GEO_LAMS) for kind in G.KINDS}
    ols = paths["l2"][0]
    span = 1.25 * max(np.abs(ols).max(), 0.5)
    w1, w2 = np.linspace(-span, span, GEO_GRID), np.linspace(-span, span, GEO_GRID)
    zeros = [lam for lam, w in zip(GEO_LAMS, paths["l1"]) if (w == 0).any()]
    optima = {kind: G.optimum(x, y, kind, p.geo_lam) for kind in G.KINDS}
    return {"lams": GEO_LAMS, "paths": paths, "ols": ols, "w1": w1, "w2": w2, "loss": G.contours(x, y, w1, w2),
            "optima": optima, "budgets": {k: G.budget(w, k) for k, w in optima.items()},
            # the contour each optimum lies on: it touches the diamond or the disc there
            "levels": {k: G.level_set(x, y, w) for k, w in optima.items()},
            "threshold": float(zeros[0]) if zeros else None}


def run_regularization(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    lams = sorted(set(LAMBDAS) | {p.lam})
    result = {"section": "regularization", "data": data, "lam": p.lam, "p_norm": p.p_norm, "lams": lams,
              "sweep": [], "stopped": False, "geometry": geometry(p)}
    result["none"] = O.train_one(data, WIDE, callback=callback, **training(p))
    for lam in lams:
        if result["sweep"] and result["sweep"][-1].outcome == "stopped" or result["none"].outcome == "stopped":
            break
        result["sweep"].append(O.train_one(data, WIDE, callback=callback, **training(p),
                                           penalty=lambda m, lam=lam: norm_penalty(m, p.p_norm, lam)))
    done = len(result["sweep"]) == len(lams) and result["sweep"][-1].outcome != "stopped"
    result["decay"] = decay_runs(data, p, callback) if done else {}
    result["stopped"] = len(result["decay"]) < len(PAIRS)
    return result


def summary_early_stopping(result: dict) -> dict:
    full, early = result["full"], result["early"]
    val = [e["val_loss"] for e in full.history]
    best, stop = result["best_epoch"], result["stopped_epoch"]
    out = {"section": "early_stopping", "stopped": result["stopped"], "epochs": len(val),
           "best_epoch": None if best is None else best + 1, "stopped_epoch": None if stop is None else stop + 1,
           "best_val_loss": None if best is None else val[best], "stopped_val_loss": early.val_loss,
           "final_val_loss": full.val_loss}
    if "test" in result:
        out["test"] = {k: float(v) for k, v in result["test"].items()}
        out["test_stopped"] = {k: float(v) for k, v in result["test_stopped"].items()}
    return out


def summary_regularization(result: dict) -> dict:
    sweep, geo = result["sweep"], result["geometry"]
    out = {"section": "regularization", "stopped": result["stopped"],
           "lam": result["lam"], "p_norm": result["p_norm"], "none": _scores(result["none"]),
           "sweep": {"lams": result["lams"][:len(sweep)], "train_loss": final_losses(sweep, "train_loss"),
                     "val_loss": final_losses(sweep, "val_loss"), "near_zero": [near_zero(t.model) for t in sweep]},
           "decay": {name: {"max_diff": d["max_diff"], "penalty_val_loss": d["penalty"].val_loss,
                            "decay_val_loss": d["decay"].val_loss} for name, d in result["decay"].items()},
           "geometry": {"l1": [float(v) for v in geo["optima"]["l1"]], "l2": [float(v) for v in geo["optima"]["l2"]],
                        "threshold": geo["threshold"]}}
    if result["lam"] in out["sweep"]["lams"]:
        out["penalized"] = _scores(_shown_regularization(result))
    return out


def _scores(trained) -> dict:
    return {"train_loss": trained.train_loss, "val_loss": trained.val_loss, "near_zero": near_zero(trained.model)}


def _shown_regularization(result: dict):
    sweep = result["sweep"]
    chosen = [t for lam, t in zip(result["lams"], sweep) if lam == result["lam"]]
    return chosen[0] if chosen else (sweep or [result["none"]])[-1]


EARLY_STOPPING = Section(
    settings=("dataset", "n_points", "noise", "lr", "epochs", "batch_size", "patience", "min_delta"),
    run=run_early_stopping, summary=summary_early_stopping, shown=lambda result: result["early"],
    epochs=lambda p: p.epochs, export=export_code)

REGULARIZATION = Section(
    settings=("dataset", "n_points", "noise", "lr", "epochs", "batch_size", "p_norm", "lam", "weight_decay",
              "geo_lam"),
    run=run_regularization, summary=summary_regularization, shown=_shown_regularization,
    epochs=lambda p: p.epochs * (1 + len(set(LAMBDAS) | {p.lam})) + DECAY_EPOCHS * 2 * len(PAIRS),
    export=export_code,
    guided=(
        # measured (seed 0, lam 0.003): |w| < 0.01 for 99% of the weights with L1, 54% with L2;
        # validation loss 0.186 with L1, 0.879 without a penalty
        Guided("l1_sparse", {"section": "regularization", "p_norm": 1, "lam": 0.003},
               lambda s: s["sweep"]["near_zero"][s["sweep"]["lams"].index(0.003)] > 0.9
               and s["sweep"]["val_loss"][s["sweep"]["lams"].index(0.003)] < 0.5 * s["none"]["val_loss"]),
    ))

