"""nnkit.gradients and the Gradients experiment: fit's before_step place, clipping against
torch.nn.utils, per-layer norms against `.grad`, the MLP builder's init / batch norm / residual
options, the vanishing and exploding presets, the chain of derivatives, run records, the CLI and
the exported script."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from torch import nn

from nnkit import backprop as B, gradients as G
from nnkit.experiments.base import parse
from nnkit.experiments.gradients import GradientsParams as P, export_code, records, run, summary
from nnkit.models import INITS, Residual, mlp
from nnkit.train import fit

FAST = {"depth": 6, "width": 16, "n_points": 64, "epochs": 20}


def data(n: int = 64, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return x, (x[:, 0] * x[:, 1] > 0).long()


def network(seed: int = 0, **options) -> nn.Module:
    torch.manual_seed(seed)
    return mlp(3, [8, 8, 8], 2, "tanh", **options)


# --- fit's place between backward() and step() -------------------------------------------------

def test_before_step_sees_the_gradients_before_the_step_and_its_dict_joins_the_step_event():
    model, seen, events = network(), [], []

    def before_step(m):
        grads = [p.grad.clone() for p in m.parameters()]
        weights = [p.detach().clone() for p in m.parameters()]
        seen.append((grads, weights))
        return {"marker": len(seen)}

    fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), data(), epochs=2,
        batch_size=32, callback=events.append, before_step=before_step)
    steps = [e for e in events if e["event"] == "step"]
    assert [e["marker"] for e in steps] == [1, 2, 3, 4]
    # gradients exist when it runs, and the weights it saw are the ones the next step changed
    first_grads, first_weights = seen[0]
    assert all(g.abs().sum() > 0 for g in first_grads)
    torch.manual_seed(0)
    fresh = network()
    assert all(torch.equal(a, b) for a, b in zip(first_weights, fresh.parameters()))


@pytest.mark.parametrize("clip, threshold", [("norm", 0.05), ("norm", 1e3), ("value", 0.01), ("value", 1e3)])
def test_clipping_in_fit_is_exactly_torch_nn_utils_between_backward_and_step(clip, threshold):
    x, y = data()
    model = network()
    events = []
    fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5), (x, y), epochs=5,
        callback=events.append, before_step=G.step_hook(clip, threshold))
    bare, norms = network(), []
    optimizer = torch.optim.SGD(bare.parameters(), lr=0.5)
    for _ in range(5):
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(bare(x), y).backward()
        if clip == "norm":
            norms.append(float(torch.nn.utils.clip_grad_norm_(bare.parameters(), threshold)))
        else:
            torch.nn.utils.clip_grad_value_(bare.parameters(), threshold)
        optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), bare.parameters()))
    steps = [e for e in events if e["event"] == "step"]
    if clip == "norm":
        assert [e["grad_norm"] for e in steps] == pytest.approx(norms, rel=1e-6)
        assert all(e["grad_norm_clipped"] <= threshold * (1 + 1e-5) for e in steps)
    clipped = any(e["grad_norm_clipped"] < e["grad_norm"] * 0.999 for e in steps)
    assert clipped == (threshold < 1)  # a threshold of 1000 never bites on these gradients


def test_step_hook_refuses_an_unknown_clipping():
    with pytest.raises(ValueError, match="unknown clipping"):
        G.step_hook("sideways")


# --- per-layer norms and activation statistics --------------------------------------------------

def test_first_step_norms_are_the_linear_weights_grad_norms_after_backward():
    x, y = data()
    model = network()
    read = G.first_step(model, nn.CrossEntropyLoss(), x, y, "tanh")
    by_hand = network()
    nn.CrossEntropyLoss()(by_hand(x), y).backward()
    expected = [float(m.weight.grad.norm()) for m in by_hand if isinstance(m, nn.Linear)]
    assert read["norms"] == pytest.approx(expected, rel=1e-6) and len(expected) == 4
    assert read["overflow"] == []
    # statistics of the three tanh layers, measured on their outputs
    outs, h = [], x
    for m in by_hand:
        h = m(h)
        if isinstance(m, nn.Tanh):
            outs.append(h.detach())
    assert [s["mean"] for s in read["stats"]] == pytest.approx([float(o.mean()) for o in outs], rel=1e-5)
    assert [s["flat"] for s in read["stats"]] == pytest.approx([float((o.abs() > 0.95).float().mean()) for o in outs])


@pytest.mark.parametrize("activation, peak", [("sigmoid", 0.25), ("tanh", 1.0)])
def test_at_the_saturation_threshold_the_derivative_is_under_the_share_the_caption_states(activation, peak):
    # the caption says "saturated: derivative under {FLAT_SLOPE} of its peak"; sigmoid at 0.95 keeps 19%
    out = torch.tensor(G.SATURATED, dtype=torch.float64)
    slope = out * (1 - out) if activation == "sigmoid" else 1 - out ** 2
    assert float(slope) / peak < G.FLAT_SLOPE


def test_relu_statistics_count_zeros_and_dead_units():
    stats = G.activation_stats([torch.tensor([[0.0, 1.0], [0.0, 0.0]])], "relu")[0]
    assert stats["flat"] == 0.75 and stats["dead"] == 0.5


@pytest.mark.parametrize("norms, word", [([1e-8, 1e-3, 1.0], "vanishing"), ([0.5, 0.3, 0.9], "healthy"),
                                         ([5e2, 1.0, 1.0], "exploding"), ([2e7, 5e7], "exploding"),
                                         ([float("inf"), 1.0], "overflow"), ([float("nan")], "overflow")])
def test_verdict(norms, word):
    assert G.verdict(norms) == word


# --- the MLP builder -----------------------------------------------------------------------------

def test_the_builder_without_options_builds_the_network_it_always_built():
    torch.manual_seed(3)
    model = mlp(2, [5, 5], 2, "relu", dropout=0.2)
    torch.manual_seed(3)
    old = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 5), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(5, 2))
    assert [type(m) for m in model] == [type(m) for m in old]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), old.state_dict().values()))


@pytest.mark.parametrize("init, std", [("small", 0.01), ("large", 1.0), ("kaiming", math.sqrt(2 / 256)),
                                       ("xavier", math.sqrt(2 / 512))])
def test_each_init_draws_the_spread_it_names(init, std):
    torch.manual_seed(0)
    model = mlp(256, [256], 256, "relu", init=init)
    for layer in (model[0], model[2]):
        assert float(layer.weight.detach().std()) == pytest.approx(std, rel=0.03)
        assert float(layer.bias.detach().abs().max()) == 0.0


def test_default_init_is_pytorchs_own_uniform_not_he():
    torch.manual_seed(0)
    model = mlp(256, [256], 2, "relu", init="default")
    bound = 1 / math.sqrt(256)
    w = model[0].weight.detach()
    assert float(w.abs().max()) <= bound and float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert set(INITS) == {"default", "small", "large", "xavier", "kaiming"}


def test_batch_norm_and_residual_options():
    torch.manual_seed(0)
    model = mlp(3, [8, 8, 8], 2, "relu", batch_norm=True, residual=True)
    assert isinstance(model[1], nn.BatchNorm1d)  # the first layer changes width: no skip around it
    blocks = [m for m in model if isinstance(m, Residual)]
    assert len(blocks) == 2 and isinstance(blocks[0].inner[1], nn.BatchNorm1d)
    x = torch.randn(16, 8)
    assert torch.allclose(blocks[0](x), x + blocks[0].inner(x))


# --- presets: vanishing and exploding ----------------------------------------------------------

def test_xavier_rescues_twenty_tanh_layers_but_not_twenty_sigmoid_layers():
    # what the page says of the "matching init" fix: sigmoid's derivative (at most 1/4) vanishes under Xavier too
    tanh = summary(run(replace(P(), activation="tanh", init="xavier", depth=20, epochs=10)))
    sigmoid = summary(run(replace(P(), activation="sigmoid", init="xavier", depth=20, epochs=10)))
    assert tanh["verdict"] == "healthy"
    assert sigmoid["verdict"] == "vanishing" and sigmoid["ratio"] < 1e-10


def test_the_vanishing_preset_shrinks_the_first_layer_at_least_1e4_times():
    s = summary(run(replace(P(), activation="sigmoid", init="default", depth=20, epochs=10)))
    assert s["verdict"] == "vanishing" and s["norms"][0] * 1e4 <= s["norms"][-1]


def test_the_exploding_preset_reports_its_overflow_and_does_not_crash():
    s = summary(run(replace(P(), activation="relu", init="large", depth=50, epochs=10)))
    assert s["verdict"] == "overflow" and "loss" in s["overflow"] and s["outcome"] == "diverged"
    assert s["norms"][0] is None and s["steps"] == 0
    json.dumps(s, allow_nan=False)  # the overflow is reported as null, valid JSON


def test_a_loss_that_grows_until_it_overflows_ends_as_diverged_with_the_steps_before():
    s = summary(run(replace(P(), section="fixes", activation="relu", init="large", fix_relu=False, fix_init=False,
                            clip="norm", lr=0.01, epochs=20)))
    assert s["broken"]["verdict"] == "exploding" and s["broken"]["outcome"] == "diverged"
    assert s["broken"]["steps"] >= 1 and s["fixed"]["outcome"] == "completed"
    json.dumps(s, allow_nan=False)


# --- the chain of derivatives ------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("weight", [0.5, 1.0, 3.0])
def test_the_chain_product_is_autograds_derivative_and_stays_under_its_bound(activation, weight):
    c = G.chain(activation, 30, weight)
    assert c["product"] == pytest.approx(c["autograd"], rel=1e-12, abs=1e-300)
    assert all(abs(p) <= b * (1 + 1e-12) for p, b in zip(c["product"], c["bound"]))


def test_sigmoid_bound_is_a_quarter_to_the_depth():
    c = G.chain("sigmoid", 10, 1.0)
    assert c["bound"][-1] == pytest.approx(0.25 ** 10) and c["product"][-1] < 0.25 ** 10


# --- run records, CLI, export ------------------------------------------------------------------

def test_a_comparison_keeps_two_runs_the_broken_one_with_every_fix_off():
    p = replace(P(), section="fixes", **FAST)
    made = records(p, run(p))
    assert len(made) == 2
    assert made[0].settings["fix_relu"] == "false" and made[1].settings["fix_relu"] == "true"
    assert [r["epoch"] for r in made[1].history] == list(range(1, 21))


def test_cli_prints_the_per_layer_norms_as_json():
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "gradients", "--set", "depth=5", "--set", "epochs=10",
                           "--set", "n_points=64", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert len(s["norms"]) == 6 and all(n > 0 for n in s["norms"]) and s["section"] == "health"


def _printed(out: str) -> dict:
    found = {}
    for name, norms in re.findall(r"^(\w+): gradient norm per layer, input to output: (.*)$", out, re.M):
        found[name] = {"norms": [float(v) for v in norms.split(", ")]}
    for name, loss in re.findall(r"^(\w+): loss at the last step = (\S+)$", out, re.M):
        found[name]["loss"] = float(loss)
    for name, step in re.findall(r"^(\w+): diverged at step (\d+)$", out, re.M):
        found[name]["diverged"] = int(step)
    return found


def _run_script(code: str, tmp_path) -> str:
    script = tmp_path / "exported.py"
    script.write_text(code, encoding="utf-8")
    # one thread, as the tests run torch (conftest): sums split over threads round differently, and a
    # network that trains chaotically (a loss rising under SGD) turns 1e-7 into 0.5 over 20 steps
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("settings", [
    {"section": "health", "batch_norm": "true", "residual": "true", "init": "xavier", **FAST},
    {"section": "fixes", "fix_bn": "true", "clip": "value", "clip_threshold": "0.05", **FAST},
    {"section": "fixes", "activation": "relu", "init": "large", "fix_relu": "false", "fix_init": "false",
     "clip": "norm", "lr": "0.01", "depth": "20", "epochs": "20", "n_points": "64"},
])
def test_the_exported_script_prints_the_numbers_of_the_run(settings, tmp_path):
    p, _ = parse(P, settings)
    s = summary(run(p))
    printed = _printed(_run_script(export_code(p, "zh"), tmp_path))
    nets = {"network": s} if p.section == "health" else {"broken": s["broken"], "fixed": s["fixed"]}
    for name, net in nets.items():
        assert printed[name]["norms"] == pytest.approx(net["norms"], rel=1e-5)
        if net["outcome"] == "diverged":
            assert printed[name]["diverged"] == net["steps"] + 1
        else:
            assert printed[name]["loss"] == pytest.approx(net["final_loss"], rel=1e-5, abs=1e-7)


def test_the_exported_chain_prints_autograds_derivative(tmp_path):
    p = replace(P(), section="chain", activation="sigmoid", depth=12, chain_weight=2.0)
    out = _run_script(export_code(p), tmp_path)
    value = float(re.search(r"dh_L/dh_0 = (\S+);", out).group(1))
    assert value == pytest.approx(summary(run(p))["product"], rel=1e-6)


# --- backpropagation by hand -------------------------------------------------------------------

@pytest.mark.parametrize("activation", B.HAND_ACTIVATIONS)
@pytest.mark.parametrize("loss", B.LOSSES)
@pytest.mark.parametrize("x, y, weights", [
    ((1.0, -2.0), 1.0, (0.5, -0.3, 0.1, 0.8, 0.2, -0.1, 1.2, -0.7, 0.05)),
    ((0.3, 4.5), 0.0, (-1.5, 0.4, 2.0, 0.9, -0.6, 0.3, -2.2, 3.1, -0.4)),
    ((-5.0, 5.0), 0.25, (4.0, 3.0, -1.0, -4.5, 2.5, 0.0, 5.0, -5.0, 1.0)),  # saturated sigmoid/tanh, a dead ReLU
])
def test_the_hand_written_backward_pass_equals_autograd_to_1e_10(activation, loss, x, y, weights):
    steps = B.steps(x, y, weights, activation, loss, lr=0.1)
    value, grads = B.autograd(x, y, weights, activation, loss)
    hand = B.hand_gradients(steps)
    assert set(hand) == set(B.PARAMS)
    assert all(abs(hand[k] - grads[k]) <= 1e-10 for k in B.PARAMS), (hand, grads)
    assert abs(next(s.value for s in steps if s.node == "L") - value) <= 1e-10
    updated = {s.node[:-1]: s.value for s in steps if s.phase == "update"}
    assert all(abs(updated[k] - (w - 0.1 * grads[k])) <= 1e-10 for k, w in zip(B.PARAMS, weights))
    assert [s.phase for s in steps] == ["forward"] * 6 + ["backward"] * 14 + ["update"] * 9


def test_the_by_hand_script_prints_the_gradients_of_the_page(tmp_path):
    p = replace(P(), section="by_hand", activation="sigmoid", hand_loss="binary", hand_y=0.0)
    s = summary(run(p))
    out = _run_script(export_code(p, "zh"), tmp_path)
    printed = {name: float(v) for name, v in re.findall(r"^dL/d(\w+) = (\S+),", out, re.M)}
    assert printed == pytest.approx(s["gradients"], abs=1e-9)
    assert float(re.search(r"^loss = (\S+)$", out, re.M).group(1)) == pytest.approx(s["loss"], abs=1e-9)
