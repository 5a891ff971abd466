"""nnkit.overfitting and the Overfitting experiment: the split, the sweeps, the pieces of a
one-hidden-layer net, the chosen model and its single test score, the run record and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from torch import nn

from nnkit import overfitting as O
from nnkit.experiments.base import parse
from nnkit.experiments.overfitting import OverfittingParams as P, epochs_total, record, run, summary
from nnkit.experiments.overfitting_capacity import DEPTHS, TRAIN_SIZES, WIDTHS
from nnkit.train import StopTraining

FAST = {"epochs": 20, "approx_epochs": 20}


def test_split_is_disjoint_covers_every_point_and_is_seeded():
    a, b = O.toy_split("moons", 151, 0.3, 4), O.toy_split("moons", 151, 0.3, 4)
    sizes = {name: len(idx) for name, idx in a.index.items()}
    assert sizes == {"train": 51, "val": 50, "test": 50}
    everything = torch.cat(list(a.index.values()))
    assert sorted(everything.tolist()) == list(range(151))
    assert all(torch.equal(a.index[k], b.index[k]) for k in a.index)
    assert not torch.equal(O.toy_split("moons", 151, 0.3, 5).index["test"], a.index["test"])


def test_pieces_sum_to_the_network_output():
    data = O.curve_split(40, 0)
    net = O.train_one(data, [5], activation="tanh", lr=0.01, epochs=3, batch_size=40, seed=0)
    grid = torch.linspace(-2, 2, 11)[:, None]
    parts = O.pieces(net.model, grid)
    assert parts.shape == (5, 11)
    with torch.no_grad():
        out = net.model(grid)[:, 0].numpy()
    assert parts.sum(axis=0) + float(net.model[2].bias.detach()) == pytest.approx(out, abs=1e-5)


def test_score_is_pytorchs_loss_with_no_grad():
    data = O.toy_split("circles", 60, 0.1, 1)
    net = O.train_one(data, [4], activation="relu", lr=0.01, epochs=2, batch_size=64, seed=1)
    x, y = data.part("test")
    got = O.score(net.model, (x, y))
    with torch.no_grad():
        out = net.model(x)
    assert got["loss"] == pytest.approx(float(nn.functional.cross_entropy(out, y)), rel=1e-6)
    assert got["acc"] == pytest.approx(float((out.argmax(1) == y).float().mean()))


def test_capacity_sweeps_every_width_and_depth_and_tests_the_chosen_model_once():
    p = replace(P(), **FAST)
    result = run(p)
    s = summary(result)
    assert s["width"]["widths"] == list(WIDTHS) and s["depth"]["depths"] == list(DEPTHS)
    assert s["width"]["params"] == [5 * w + 2 for w in WIDTHS]  # 2 -> w -> 2: 2w + w, then 2w + 2
    assert s["depth"]["params"][1] == s["depth"]["params"][0] + 16 * 16 + 16
    every = s["width"]["val_loss"] + s["depth"]["val_loss"]
    assert s["chosen"]["val_loss"] == min(every)
    assert s["test"]["loss"] == pytest.approx(O.score(result["chosen"].model, result["data"].part("test"))["loss"])
    # the depth sweep's first network is the width sweep's network of the same width, reused
    assert result["depth"][0] is result["width"][WIDTHS.index(16)]


def test_each_epoch_of_every_network_is_reported_as_promised():
    for section in ("capacity", "approximation", "data_size"):
        p = replace(P(section=section), **FAST)
        epochs = []
        run(p, lambda e: epochs.append(e) if e["event"] == "epoch" else None)
        assert len(epochs) == epochs_total(p), section


def test_same_seed_same_numbers_other_seed_other_numbers():
    p = replace(P(section="data_size"), **FAST)
    a, b, c = summary(run(p)), summary(run(p)), summary(run(replace(p, seed=1)))
    assert a == b and a != c
    assert a["sizes"] == list(TRAIN_SIZES) and len(a["large"]["val_loss"]) == len(TRAIN_SIZES)


def test_approximation_fits_with_k_units_and_reports_its_pieces():
    p = replace(P(section="approximation", units=3), **FAST)
    result = run(p)
    assert result["pieces"].shape == (3, len(result["grid"]))
    assert summary(result)["params"] == 3 + 3 + 3 + 1


def test_stopping_keeps_what_was_trained_and_records_it_as_stopped():
    p = replace(P(), **FAST)
    seen = []

    def stop_in_the_third_network(event):
        if event["event"] == "epoch" and event["model"] == 2 and event["epoch"] == 4:
            raise StopTraining
        seen.append(event)

    result = run(p, stop_in_the_third_network)
    s = summary(result)
    assert s["stopped"] and "test" not in s and len(s["width"]["val_loss"]) == 3 and s["depth"]["val_loss"] == []
    made = record(p, result)
    assert made.outcome == "stopped" and len(made.history) == 5  # epochs 0-4 of the third network


def test_run_record_keeps_the_chosen_networks_curves_and_the_test_score():
    p = replace(P(), **FAST)
    result = run(p)
    made = record(p, result)
    assert set(made.settings) == {"section", "dataset", "n_points", "noise", "depth_width", "lr", "epochs",
                                  "batch_size", "seed"}
    assert len(made.history) == p.epochs and made.history[-1]["val_loss"] == pytest.approx(result["chosen"].val_loss)
    assert made.summary["test_loss"] == pytest.approx(result["test"]["loss"])


def test_cli_prints_the_sweep_the_chosen_model_and_the_test_score():
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "overfitting", "--set", "epochs=20", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = summary(run(parse(P, {"epochs": "20"})[0]))
    assert out["width"]["val_loss"] == pytest.approx(expected["width"]["val_loss"])
    assert out["chosen"] == expected["chosen"] and out["test"] == pytest.approx(expected["test"])
