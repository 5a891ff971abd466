"""nnkit's optimizers: torch's fused kernels give what torch.optim's default kernels give, and
checkpoints move between the two."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from nnkit.models import mlp
from nnkit.optim import can_fuse, make_optimizer


def _data(dtype):
    g = torch.Generator().manual_seed(0)
    return torch.randn(256, 20, generator=g, dtype=dtype), torch.randint(0, 3, (256,), generator=g)


def _train(optimizer, model, x, y, steps, start=0):
    for i in range(start, start + steps):
        idx = torch.arange(i * 32 % 256, i * 32 % 256 + 32)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _model(dtype):
    torch.manual_seed(0)
    return mlp(20, [32], 3, "relu").to(dtype)


# Both kernels compute the same update; only the order of float operations differs. After 100
# steps the weights (about 1 in size) then differ by float rounding: measured 2.5e-16 in float64
# and 1.8e-7 in float32 (about two float32 steps at 1.0). A wrong formula (no bias correction,
# eps inside the square root, a missed step) moves them by 1e-4 or more.
@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
@pytest.mark.parametrize("name, reference", [("adam", torch.optim.Adam), ("sgd", torch.optim.SGD),
                                             ("adamw", torch.optim.AdamW), ("adagrad", torch.optim.Adagrad)])
def test_fused_kernels_train_like_torchs_default_ones(name, reference, dtype, atol):
    x, y = _data(dtype)
    ours = _model(dtype)
    theirs = _model(dtype)
    # with weight decay on, so that the kernels must also agree on how they decay
    optimizer = make_optimizer(name, ours.parameters(), 0.01, weight_decay=0.01)
    assert optimizer.param_groups[0]["fused"] is True  # on a CPU, torch has the fused kernel
    got = _train(optimizer, ours, x, y, 100)
    want = _train(reference(theirs.parameters(), lr=0.01, weight_decay=0.01), theirs, x, y, 100)
    assert torch.allclose(got, want, rtol=0, atol=atol), (got - want).abs().max()
    initial = torch.cat([p.detach().flatten() for p in _model(dtype).parameters()])
    assert (got - initial).abs().max() > 1e-2  # it trained: far more than the tolerance


def test_parameters_off_the_fused_devices_get_torchs_default_kernel():
    params = [torch.zeros(3, device="meta", requires_grad=True)]
    assert not can_fuse(params)
    assert make_optimizer("adam", params, 0.1).param_groups[0]["fused"] is None
    assert can_fuse([torch.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        make_optimizer("lbfgs", params, 0.1)


# name, the settings given, the torch class, the settings its param group must then hold
CASES = [
    ("sgd", {"weight_decay": 0.01, "momentum": 0.9, "nesterov": True}, torch.optim.SGD,
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "fused": True}),
    ("sgd", {}, torch.optim.SGD, {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0, "fused": True}),
    ("adam", {"weight_decay": 0.001}, torch.optim.Adam, {"weight_decay": 0.001, "decoupled_weight_decay": False}),
    ("adamw", {"weight_decay": 0.05}, torch.optim.AdamW, {"weight_decay": 0.05, "fused": True}),
    ("rmsprop", {"momentum": 0.5, "weight_decay": 0.1}, torch.optim.RMSprop,
     {"momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", {"weight_decay": 0.2}, torch.optim.Adagrad, {"weight_decay": 0.2, "fused": True}),
    ("adadelta", {"weight_decay": 0.3}, torch.optim.Adadelta, {"weight_decay": 0.3}),
]


@pytest.mark.parametrize("name, settings, cls, want", CASES)
def test_each_name_makes_torchs_optimizer_with_the_given_settings(name, settings, cls, want):
    optimizer = make_optimizer(name, _model(torch.float32).parameters(), 0.02, **settings)
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.02
    assert {k: group[k] for k in want} == want
    if name in ("rmsprop", "adadelta"):  # torch has no fused kernel for these
        assert group.get("fused") is None


def test_param_groups_keep_their_own_weight_decay():
    model = _model(torch.float32)
    weights = [p for p in model.parameters() if p.ndim > 1]
    biases = (p for p in model.parameters() if p.ndim == 1)  # a generator, as torch allows
    optimizer = make_optimizer("sgd", [{"params": weights, "weight_decay": 0.1}, {"params": biases}],
                               0.01, weight_decay=0.0)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]
    assert [len(g["params"]) for g in optimizer.param_groups] == [2, 2]
    assert all(g["fused"] is True for g in optimizer.param_groups)


@pytest.mark.parametrize("name, settings", [("adam", {"momentum": 0.9}), ("rmsprop", {"nesterov": True}),
                                            ("adagrad", {"momentum": 0.1})])
def test_a_setting_the_optimizer_lacks_is_refused_not_ignored(name, settings):
    with pytest.raises(ValueError, match=f"optimizer '{name}' has no"):
        make_optimizer(name, _model(torch.float32).parameters(), 0.01, **settings)


def _saved(optimizer) -> dict:
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


@pytest.mark.parametrize("writer", ["default", "fused"])
def test_resuming_from_either_kernels_state_continues_the_same_training(writer):
    """A checkpoint from an unfused optimizer (an older file) or a fused one resumes on the fused
    kernel, and the run ends where an uninterrupted run ends."""
    x, y = _data(torch.float64)
    straight = _model(torch.float64)
    want = _train(make_optimizer("adam", straight.parameters(), 0.01), straight, x, y, 40)

    first = _model(torch.float64)
    opt = (torch.optim.Adam(first.parameters(), lr=0.01) if writer == "default"
           else make_optimizer("adam", first.parameters(), 0.01))
    _train(opt, first, x, y, 20)
    state, weights = _saved(opt), {k: v.clone() for k, v in first.state_dict().items()}
    assert state["param_groups"][0]["fused"] is (None if writer == "default" else True)

    resumed = _model(torch.float64)
    resumed.load_state_dict(weights)
    optimizer = make_optimizer("adam", resumed.parameters(), 0.01)
    optimizer.load_state_dict(state)
    assert optimizer.param_groups[0]["fused"] is True  # the kernel stays ours, whatever wrote the file
    assert optimizer.state[next(resumed.parameters())]["step"].item() == 20  # the state came from the file
    got = _train(optimizer, resumed, x, y, 20, start=20)
    assert torch.allclose(got, want, rtol=0, atol=1e-12)


def test_a_fused_optimizers_state_loads_into_torchs_default_adam():
    """What the exported script or a learner's own code does with our checkpoint."""
    x, y = _data(torch.float32)
    model = _model(torch.float32)
    optimizer = make_optimizer("adam", model.parameters(), 0.01)
    _train(optimizer, model, x, y, 5)
    plain = torch.optim.Adam(model.parameters(), lr=0.01)
    plain.load_state_dict(_saved(optimizer))
    _train(plain, model, x, y, 5, start=5)
    assert plain.state[next(model.parameters())]["step"].item() == 10


def test_a_state_with_another_number_of_groups_is_still_refused():
    model = _model(torch.float32)
    optimizer = make_optimizer("adam", model.parameters(), 0.01)
    state = optimizer.state_dict()
    state["param_groups"] = state["param_groups"] * 2
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optimizer.load_state_dict(state)
