"""The Optimizers page on a real network: the same MLP (64 pixels -> 64 ReLU units -> 10 classes)
on a subset of the bundled 8x8 digits, trained once per chosen optimizer at its usual settings and
its own learning rate, from the same initial weights and with the same batches. "adam_sgd" is the
course's "Adam first, then SGD": Adam for the first `switch_epoch` epochs, then SGD with momentum
on the same weights (torch's SGD state starts empty at the switch, as it does in a script).

The data are the Dropout page's digits (nnkit.experiments.dropout_compare.digit_split: a seeded
`subset` of the training images and the Classification page's validation images, flat in [0, 1]);
each network is trained by nnkit.train.fit with an optimizer from nnkit.optim.make_optimizer.
"""

from __future__ import annotations

import math
from typing import Callable

from torch import nn

from nnkit import overfitting as O
from nnkit.experiments.base import Section
from nnkit.experiments.dropout_compare import digit_split
from nnkit.optim import make_optimizer
from nnkit.train import fit

HIDDEN = [64]
MOMENTUM = 0.9  # the usual momentum of "SGD with momentum" (and of the SGD half of Adam then SGD)
# Each optimizer as the factory makes it, at its usual settings (torch's defaults, AdamW's decay 0.01)
# apart from the learning rate, which is a setting of its own (PRESETS).
USUAL = {"sgd": ("sgd", {}), "momentum": ("sgd", {"momentum": MOMENTUM}),
         "nesterov": ("sgd", {"momentum": MOMENTUM, "nesterov": True}), "adagrad": ("adagrad", {}),
         "rmsprop": ("rmsprop", {}), "adadelta": ("adadelta", {}), "adam": ("adam", {}),
         "adamw": ("adamw", {"weight_decay": 0.01})}
NAMES = (*USUAL, "adam_sgd")
# A learning rate per optimizer that trains this network well in its 200 default steps (20 epochs of 10
# batches), picked from a grid on seeds 0 and 1 (validation loss: SGD 0.24 / 0.21 at 0.3 against 0.48 at
# 0.1; Adam 0.25 / 0.23 at 0.003 against 0.63 / 0.65 at torch's default 0.001). adam_sgd's is that of
# its SGD half (its Adam half uses Adam's): 0.03, momentum's own.
PRESETS = {"sgd": 0.3, "momentum": 0.03, "nesterov": 0.03, "adagrad": 0.03, "rmsprop": 0.003, "adadelta": 1.0,
           "adam": 0.003, "adamw": 0.003, "adam_sgd": 0.03}
SGD_LIKE = ("momentum", "nesterov", "sgd")  # "SGD" of the course's advice: the first of these that ran
ADAM_LIKE = ("adam", "adamw")
REACHED = 0.9  # "trained": the first epoch whose validation accuracy reaches this


def switch_at(p) -> int:
    """The epoch after which Adam then SGD switches: the setting, or the last epoch (Adam alone)."""
    return min(p.switch_epoch, p.net_epochs)


def phases(p, name: str) -> list[tuple[str, dict, int]]:
    """(factory name, its settings, epochs) in order: one phase, or Adam's then SGD's for adam_sgd."""
    if name == "adam_sgd":
        k = switch_at(p)
        return [("adam", {"lr": p.net_lr_adam}, k),
                ("sgd", {"lr": p.net_lr_adam_sgd, "momentum": MOMENTUM}, p.net_epochs - k)]
    factory, usual = USUAL[name]
    return [(factory, {"lr": getattr(p, f"net_lr_{name}"), **usual}, p.net_epochs)]


def train_network(data: O.Split, p, name: str, callback: Callable[[dict], None] | None = None) -> O.Trained:
    """One network from the seed's weights, trained through its phases on the same seeded batches:
    epoch e is shuffled by seed + e whichever optimizer takes it, so a phase continues the epochs."""
    model = O.network(data, HIDDEN, "relu", p.seed)
    history, outcome, epoch = [], "completed", 0
    for factory, settings, epochs in phases(p, name):
        if epochs == 0:
            continue
        optimizer = make_optimizer(factory, model.parameters(), **settings)
        done = fit(model, nn.CrossEntropyLoss(), optimizer, data.part("train"), epochs=epochs,
                   batch_size=p.net_batch_size, val=data.part("val"), callback=callback, shuffle_seed=p.seed,
                   score_train=True, start_epoch=epoch)
        history += done.epochs
        epoch, outcome = epoch + epochs, done.outcome
        if outcome != "completed":
            break
    return O.Trained(HIDDEN, O.n_params(model), outcome, history, model)


def run_network(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = digit_split(p)
    trained = {}
    for name in p.net_optimizers:
        tag = (lambda e, name=name: callback({**e, "optimizer": name})) if callback else None
        trained[name] = train_network(data, p, name, tag)
        if trained[name].outcome == "stopped":  # Stop: keep what was trained, train no more
            break
    return {"section": "network", "trained": trained, "switch": switch_at(p), "n_train": len(data.index["train"]),
            "n_val": len(data.index["val"]), "stopped": any(t.outcome == "stopped" for t in trained.values())}


def seconds(history: list[dict]) -> list[float]:
    """The wall seconds since the start of training at the end of each epoch (fit measures each)."""
    out, total = [], 0.0
    for row in history:
        total += row["seconds"]
        out.append(total)
    return out


def per_network(net: O.Trained) -> dict:
    h = net.history
    accs = [row["val_acc"] for row in h]
    best = max(range(len(accs)), key=accs.__getitem__) if accs else None
    return {"outcome": net.outcome, "epochs": len(h), "train_loss": net.train_loss, "val_loss": net.val_loss,
            "val_acc": accs[-1] if accs else math.nan, "best_val_acc": accs[best] if accs else math.nan,
            "best_epoch": best + 1 if accs else None, "seconds": seconds(h)[-1] if h else 0.0,
            "reached_epoch": next((i + 1 for i, a in enumerate(accs) if a >= REACHED), None),
            "reached_seconds": next((sec for a, sec in zip(accs, seconds(h)) if a >= REACHED), None)}


def advice(s: dict) -> dict:
    """The numbers the course's three pieces of advice are checked against in this run: the final
    validation accuracy of each, who came first, and the margin under which two accuracies count
    as the same (one validation image). Absent names did not run."""
    nets = {n: v for n, v in s["optimizers"].items() if v["outcome"] == "completed"}
    pick = lambda names: next((n for n in names if n in nets), None)  # noqa: E731
    ranked = sorted(nets, key=lambda n: -nets[n]["val_acc"])
    return {"adam": pick(ADAM_LIKE), "sgd": pick(SGD_LIKE), "switch": "adam_sgd" if "adam_sgd" in nets else None,
            "best": ranked[0] if ranked else None, "ranked": ranked, "same": 1 / s["n_val"]}


def summary_network(result: dict) -> dict:
    s = {"section": "network", "switch_epoch": result["switch"], "n_train": result["n_train"],
         "n_val": result["n_val"], "optimizers": {n: per_network(t) for n, t in result["trained"].items()}}
    return {**s, "advice": advice(s)}


def rows(net: O.Trained) -> list[dict]:
    """The run record's history: one row per epoch (counted from 1), with the wall seconds so far."""
    return [{"epoch": row["epoch"] + 1, "seconds": sec, "train_loss": row["train_loss"], "val_loss": row["val_loss"],
             "val_acc": row["val_acc"]} for row, sec in zip(net.history, seconds(net.history))]


def records(p, result: dict) -> list:
    """One run record per trained network, with the settings it depends on (its own learning rates)."""
    from nnkit.runs import RunRecord, settings_text

    from nnkit.experiments.optimizers import applies

    out = []
    for name, net in result["trained"].items():
        own = {f"net_lr_{name}"} | ({"net_lr_adam", "switch_epoch"} if name == "adam_sgd" else set())
        names = [n for n in applies(p) if n != "net_optimizers" and (not n.startswith("net_lr_") or n in own)
                 and (n != "switch_epoch" or name == "adam_sgd")]
        final = {"val_loss": net.val_loss, "val_acc": net.history[-1]["val_acc"] if net.history else None}
        out.append(RunRecord("optimizers", {**settings_text(p, names), "net_optimizers": [name]}, rows(net), final,
                             net.outcome, "epoch"))
    return out


def shown_network(result: dict) -> list:
    return []  # its run records are made by `records` (one per network, over epochs)


def export_network(p, lang: str = "en") -> str:
    from nnkit.experiments.optimizers_network_export import export

    return export(p, lang)


NETWORK = Section(
    settings=("net_optimizers", *(f"net_lr_{n}" for n in NAMES), "switch_epoch", "subset", "net_epochs",
              "net_batch_size"),
    run=run_network, summary=summary_network, shown=shown_network,
    epochs=lambda p: len(p.net_optimizers) * p.net_epochs, export=export_network)
