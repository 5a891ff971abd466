"""The Dropout page's look inside one network: train vs eval mode, keep vs drop probability, the
average of K thinned networks (Monte Carlo dropout), and the masks of single training passes.

"train_eval" and "ensemble" train the comparison's network once with dropout `rate`. Measured on
the defaults (rate 0.5, seed 0): twenty passes of one test point in train mode give twenty
different probabilities, eval mode one; scored with dropout left on, the test accuracy varies from
scoring to scoring and the test loss is higher; the average of K thinned networks approaches the
eval-mode prediction as K grows, to a distance that stays (see the guided experiments).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from nnkit import dropout as D, overfitting as O
from nnkit.experiments.base import Guided, Section
from nnkit.experiments.dropout_compare import REGION, hidden, training
from nnkit.experiments.dropout_export import export_code
from nnkit.models import decision_region

TRAIN_PASSES = 20  # forward passes of one input in train mode
REPEATS = 20  # test-set scorings with dropout left on
KS = (1, 2, 4, 8, 16, 32, 64, 128)  # how many thinned networks the Monte Carlo average takes
SHOWN_UNITS = 8  # the hidden units the keep-vs-drop table shows (the most active ones)


def train_network(p, callback: Callable[[dict], None] | None = None) -> tuple[O.Split, O.Trained]:
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    return data, O.train_one(data, hidden(p), callback=callback, dropout=p.rate, **training(p))


def first_hidden(model, x: torch.Tensor) -> torch.Tensor:
    """The first hidden layer's outputs (after ReLU, before its dropout): what dropout masks."""
    with torch.no_grad():
        return model[1](model[0](x))


def run_train_eval(p, callback: Callable[[dict], None] | None = None) -> dict:
    data, net = train_network(p, callback)
    result = {"section": "train_eval", "data": data, "net": net, "rate": p.rate, "stopped": net.outcome == "stopped"}
    if result["stopped"]:
        return result
    x, _ = data.part("test")
    # the test point the network is least sure about: there the thinned networks disagree most
    unsure = int((torch.softmax(D.eval_output(net.model, x), -1)[:, 1] - 0.5).abs().argmin())
    point = x[unsure:unsure + 1]
    result["point"] = point[0].tolist()
    passes = D.train_mode_outputs(net.model, point, TRAIN_PASSES, p.seed)
    result["train_mode"] = torch.softmax(passes, -1)[:, 0, 1].tolist()
    result["eval_mode"] = float(torch.softmax(D.eval_output(net.model, point), -1)[0, 1])
    result["forgot"] = D.forgot_eval(net.model, data.part("test"), REPEATS, p.seed)
    h = first_hidden(net.model, point)[0]
    top = torch.argsort(h, descending=True)[:SHOWN_UNITS].sort().values
    sums = D.expectations(h, p.rate, p.samples, torch.Generator().manual_seed(p.seed))
    result["units"] = top.tolist()
    result["layer"] = {k: (v[top].tolist() if isinstance(v, torch.Tensor) else v) for k, v in sums.items()}
    result["deviation"] = {name: float((sums[f"{name}_train"] - sums[f"{name}_eval"]).abs().max())
                           for name in ("inverted", "original")}
    result["drop_scaled_error"] = float((sums["original_train"] - sums["drop_scaled_eval"]).abs().max())
    return result


def summary_train_eval(result: dict) -> dict:
    net = result["net"]
    out = {"section": "train_eval", "stopped": result["stopped"], "rate": result["rate"],
           "val_loss": net.val_loss, "train_loss": net.train_loss}
    if "forgot" in result:
        forgot = result["forgot"]["train_mode"]
        out.update(train_mode=result["train_mode"], eval_mode=result["eval_mode"],
                   distinct_train_outputs=len(set(round(v, 6) for v in result["train_mode"])),
                   test_acc_eval=result["forgot"]["eval_mode"], test_acc_forgot=forgot,
                   test_acc_forgot_mean=sum(forgot) / len(forgot), test_loss_eval=result["forgot"]["eval_mode_loss"],
                   test_loss_forgot=result["forgot"]["train_mode_loss"], deviation=result["deviation"],
                   drop_scaled_error=result["drop_scaled_error"], kept_share=result["layer"]["kept_share"])
    return out


def run_ensemble(p, callback: Callable[[dict], None] | None = None) -> dict:
    data, net = train_network(p, callback)
    result = {"section": "ensemble", "data": data, "net": net, "rate": p.rate, "stopped": net.outcome == "stopped"}
    if result["stopped"]:
        return result
    grid = decision_region(lambda g: g[:, 0], data.x, size=REGION)  # the grid's points only
    xs = torch.from_numpy(np.stack([grid["x0"], grid["x1"]], axis=1)).float()
    val_x, val_y = data.part("val")
    mc, val = (D.mc_average(net.model, x, list(KS), p.seed) for x in (xs, val_x))
    result.update(grid=grid, ks=list(KS), eval_p=mc["eval"][:, 1].numpy(), std=mc["std"].numpy(),
                  mean_p={k: m[:, 1].numpy() for k, m in mc["mean"].items()},
                  distance=[float((mc["mean"][k][:, 1] - mc["eval"][:, 1]).abs().mean()) for k in KS],
                  val_acc={k: float((val["mean"][k].argmax(1) == val_y).float().mean()) for k in KS},
                  eval_val_acc=float((val["eval"].argmax(1) == val_y).float().mean()))
    return result


def summary_ensemble(result: dict) -> dict:
    out = {"section": "ensemble", "stopped": result["stopped"], "rate": result["rate"]}
    if "distance" in result:
        out.update(ks=result["ks"], distance=result["distance"], eval_val_acc=result["eval_val_acc"],
                   mc_val_acc=[result["val_acc"][k] for k in result["ks"]], max_std=float(result["std"].max()))
    return out


def run_masks(p, callback: Callable[[dict], None] | None = None) -> dict:
    sizes = [p.units] * len(p.layer_rates)
    return {"section": "masks", "sizes": sizes, "rates": list(p.layer_rates), "stopped": False,
            "masks": D.mask_passes(sizes, list(p.layer_rates), p.passes, p.seed),
            "thinned": D.thinned_networks(sum(s for s, r in zip(sizes, p.layer_rates) if r > 0))}


def summary_masks(result: dict) -> dict:
    kept = [[sum(layer) for layer in one] for one in result["masks"]]
    return {"section": "masks", "stopped": False, "sizes": result["sizes"], "rates": result["rates"],
            "thinned_networks": result["thinned"], "kept": kept,
            "distinct_passes": len({str(one) for one in result["masks"]})}


def _trained(result: dict) -> list:
    return [(result["rate"], result["net"])]


TRAINED = ("dataset", "n_points", "noise", "width", "depth", "rate", "lr", "epochs", "batch_size")

TRAIN_EVAL = Section(
    settings=TRAINED + ("samples",), run=run_train_eval, summary=summary_train_eval, shown=_trained,
    epochs=lambda p: p.epochs, export=export_code,
    guided=(
        # measured (seed 0): test accuracy 0.725 to 0.825 over 20 scorings with dropout on, 0.775 in eval
        # mode; test loss 1.23 on average with dropout on, 1.12 in eval mode
        Guided("forgot_eval", {"section": "train_eval"},
               lambda s: s["distinct_train_outputs"] == 20
               and max(s["test_acc_forgot"]) - min(s["test_acc_forgot"]) >= 0.06
               and sum(s["test_loss_forgot"]) / len(s["test_loss_forgot"]) > s["test_loss_eval"]),
        # the library that scales by the drop probability is off by |1 - 2p| x h at any p but 0.5
        Guided("convnetjs", {"section": "train_eval", "rate": 0.2},
               lambda s: s["drop_scaled_error"] > 10 * max(s["deviation"].values())),
    ))

ENSEMBLE = Section(
    settings=TRAINED, run=run_ensemble, summary=summary_ensemble, shown=_trained,
    epochs=lambda p: p.epochs, export=export_code,
    guided=(
        # measured (seed 0): mean distance to the eval-mode P(class 1) 0.039 at K = 1, 0.028 at K = 128
        Guided("mc_converges", {"section": "ensemble"},
               lambda s: s["distance"][-1] < 0.75 * s["distance"][0]),
    ))

MASKS = Section(
    settings=("units", "layer_rates", "passes"), run=run_masks, summary=summary_masks, shown=lambda result: [],
    epochs=lambda p: 0, export=export_code)
