"""fit with a learning-rate scheduler: per-epoch and per-batch stepping give torch's own rates, a
plateau scheduler watches the validation loss, a checkpoint resumes the schedule, and the LR range test."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as L

from nnkit import checkpoints
from nnkit.lr_range import growth, range_test
from nnkit.train import fit
from test_nnkit_checkpoints import blob_of, content_of
from test_nnkit_train import Recorder, blobs, small_net

SCHEDULERS = {  # name -> (when it is stepped, how to build it on an optimizer for `steps` steps of that kind)
    "step": ("epoch", lambda o, steps: L.StepLR(o, step_size=2, gamma=0.5)),
    "multistep": ("epoch", lambda o, steps: L.MultiStepLR(o, milestones=[1, 4], gamma=0.1)),
    "cosine": ("epoch", lambda o, steps: L.CosineAnnealingLR(o, T_max=steps, eta_min=0.001)),
    "restarts": ("epoch", lambda o, steps: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2)),
    "onecycle": ("batch", lambda o, steps: L.OneCycleLR(o, max_lr=0.5, total_steps=steps)),
    "warmup": ("batch", lambda o, steps: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5), L.ExponentialLR(o, gamma=0.95)], milestones=[5])),
}


def hand_loop(model, optimizer, scheduler, data, epochs, batch_size, seed, when):
    """The textbook loop, written out: scheduler.step() after optimizer.step(), per batch or per epoch."""
    x, y = data
    lrs = []
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + epoch))
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            nn.CrossEntropyLoss()(model(x[idx]), y[idx]).backward()
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if when == "batch":
                scheduler.step()
        if when == "epoch":
            scheduler.step()
    return lrs


@pytest.mark.parametrize("name", SCHEDULERS)
def test_fit_steps_a_scheduler_as_the_textbook_loop_does(name):
    when, build = SCHEDULERS[name]
    data, epochs, batch_size = blobs(100), 6, 32  # 4 batches per epoch
    steps = epochs * 4 if when == "batch" else epochs
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rec = Recorder()
    result = fit(model, nn.CrossEntropyLoss(), optimizer, data, epochs=epochs, batch_size=batch_size, callback=rec,
                 scheduler=build(optimizer, steps), scheduler_step=when, shuffle_seed=3)
    reference = small_net()
    ref_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    lrs = hand_loop(reference, ref_optimizer, build(ref_optimizer, steps), data, epochs, batch_size, 3, when)
    assert result.step_lrs == lrs == [e["lr"] for e in rec.of("step")]
    assert [e["lr"] for e in result.epochs] == lrs[3::4]  # an epoch row: the rate of its last step
    assert len(set(lrs)) > 2  # the schedule really moved the rate
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.equal(a, b)


def test_per_epoch_and_per_batch_stepping_give_the_documented_rates():
    # StepLR's documented example: lr 0.05 for epochs 0-29, 0.005 for 30-59, ...; here step_size=2, gamma=0.1
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    result = fit(model, nn.CrossEntropyLoss(), optimizer, blobs(100), epochs=5, batch_size=50,
                 scheduler=L.StepLR(optimizer, step_size=2, gamma=0.1))
    assert result.step_lrs == pytest.approx([0.05] * 4 + [0.005] * 4 + [0.0005] * 2, rel=1e-12)
    # the same scheduler stepped per batch: it decays every 2 batches, i.e. every epoch here
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    result = fit(model, nn.CrossEntropyLoss(), optimizer, blobs(100), epochs=3, batch_size=50,
                 scheduler=L.StepLR(optimizer, step_size=2, gamma=0.1), scheduler_step="batch")
    assert result.step_lrs == pytest.approx([0.05] * 2 + [0.005] * 2 + [0.0005] * 2, rel=1e-12)


def test_reduce_on_plateau_cuts_the_rate_after_patience_flat_epochs():
    model = nn.Linear(1, 1)
    nn.init.zeros_(model.weight), nn.init.constant_(model.bias, 1.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train = (torch.zeros(20, 1), torch.ones(20, 1))  # loss 0 and gradient 0 on training: the weights never move
    val = (torch.zeros(20, 1), torch.zeros(20, 1))  # so the validation loss is 1.0 for ever: a plateau
    result = fit(model, nn.MSELoss(), optimizer, train, epochs=8, val=val,
                 scheduler=L.ReduceLROnPlateau(optimizer, factor=0.5, patience=2))
    assert [e["val_loss"] for e in result.epochs] == [1.0] * 8
    # epoch 0 sets the best; epochs 1-3 are 3 > patience bad ones: halved after epoch 3, again after 6
    assert [e["lr"] for e in result.epochs] == [0.1] * 4 + [0.05] * 3 + [0.025]


def test_reduce_on_plateau_keeps_the_rate_while_the_validation_loss_falls():
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = fit(model, nn.CrossEntropyLoss(), optimizer, blobs(100), epochs=6, batch_size=20, val=blobs(40, seed=1),
                 scheduler=L.ReduceLROnPlateau(optimizer, factor=0.5, patience=1), shuffle_seed=0)
    losses = [e["val_loss"] for e in result.epochs]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert {e["lr"] for e in result.epochs} == {0.1}


def test_reduce_on_plateau_needs_the_validation_set_and_epochs():
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="validation loss"):
        fit(model, nn.CrossEntropyLoss(), optimizer, blobs(), epochs=1, scheduler=L.ReduceLROnPlateau(optimizer))
    with pytest.raises(ValueError, match="'epoch' or 'batch'"):
        fit(model, nn.CrossEntropyLoss(), optimizer, blobs(), epochs=1, scheduler_step="step")


# --- checkpoints ----------------------------------------------------------------------------------

RESUMABLE = {
    "onecycle": ("batch", lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=24)),
    "warmup": SCHEDULERS["warmup"][0:1] + (lambda o: SCHEDULERS["warmup"][1](o, 24),),
    "cosine": ("epoch", lambda o: L.CosineAnnealingLR(o, T_max=6, eta_min=0.001)),
    "plateau": ("epoch", lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=0, threshold=0.6)),  # 60% better or cut
}


def training(name: str, seed: int = 0):
    model = small_net(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    when, build = RESUMABLE[name]
    return model, optimizer, build(optimizer), when


def train_on(name, model, optimizer, scheduler, when, epochs, start_epoch=0):
    return fit(model, nn.CrossEntropyLoss(), optimizer, blobs(100), epochs=epochs, batch_size=32,
               val=blobs(40, seed=1), scheduler=scheduler, scheduler_step=when, start_epoch=start_epoch,
               shuffle_seed=3, score_train=True)


@pytest.mark.parametrize("name", RESUMABLE)
def test_a_resumed_checkpoint_continues_the_schedule_unbroken(name):
    uninterrupted, optimizer, scheduler, when = training(name)
    whole = train_on(name, uninterrupted, optimizer, scheduler, when, 6)
    model, optimizer, scheduler, when = training(name)
    first = train_on(name, model, optimizer, scheduler, when, 2)
    steps = [(loss, None) for loss in first.step_losses]
    blob = checkpoints.checkpoint(model, optimizer, first.epochs, steps, {}, scheduler=scheduler)
    saved = checkpoints.read_model_file(blob, "c.pt").checkpoint
    model, optimizer, scheduler, when = training(name, seed=7)  # other weights, a schedule at its start
    checkpoints.load_weights(model, saved["model"])
    checkpoints.load_optimizer(optimizer, saved["optimizer"])
    checkpoints.load_scheduler(scheduler, saved["scheduler"])
    rest = train_on(name, model, optimizer, scheduler, when, 4, start_epoch=saved["epoch"])
    assert first.step_lrs + rest.step_lrs == whole.step_lrs
    assert len(set(whole.step_lrs)) > 1
    assert [e["val_loss"] for e in first.epochs + rest.epochs] == [e["val_loss"] for e in whole.epochs]
    for a, b in zip(model.parameters(), uninterrupted.parameters()):
        assert torch.equal(a, b)


def test_a_checkpoint_without_scheduler_state_still_loads_and_leaves_the_schedule_at_its_start():
    model, optimizer, scheduler, when = training("cosine")
    first = train_on("cosine", model, optimizer, scheduler, when, 1)
    content = content_of(checkpoints.checkpoint(model, optimizer, first.epochs, [(0.5, None)], {}))
    assert content["scheduler"] is None
    del content["scheduler"]  # a file written before checkpoints kept schedulers
    saved = checkpoints.read_model_file(blob_of(content), "c.pt").checkpoint
    fresh = training("cosine")[2]
    checkpoints.load_scheduler(fresh, saved["scheduler"])
    assert fresh.state_dict() == training("cosine")[2].state_dict()


def test_another_schedulers_state_is_refused_with_its_reason():
    model, optimizer, scheduler, when = training("cosine")
    blob = checkpoints.checkpoint(model, optimizer, [], [], {}, scheduler=L.StepLR(optimizer, 2))
    saved = checkpoints.read_model_file(blob, "c.pt").checkpoint
    with pytest.raises(checkpoints.ModelFileError, match="not what CosineAnnealingLR keeps"):
        checkpoints.load_scheduler(scheduler, saved["scheduler"])
    content = content_of(blob)
    content["scheduler"] = "cosine"
    with pytest.raises(checkpoints.ModelFileError, match="scheduler state is not a table"):
        checkpoints.read_model_file(blob_of(content), "c.pt")
