"""nnkit.train: the one training loop (`fit`) and `evaluate`."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from nnkit.train import FitResult, StopTraining, evaluate, fit

STEP_KEYS = {"event", "epoch", "step", "loss", "lr", "acc"}  # acc: the batch accuracy, for classes
EPOCH_KEYS = {"event", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}


def blobs(n: int = 100, seed: int = 0, gap: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two Gaussian blobs, linearly separable: class 0 around (-gap, -gap), class 1 around (gap, gap)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    centre = (y.float() * 2 - 1).unsqueeze(1) * gap
    x = centre + 0.5 * torch.randn(n, 2, generator=g)
    return x, y


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))


class Recorder:
    def __init__(self):
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]


# --- events -------------------------------------------------------------------------------------

def test_one_step_event_per_batch_and_one_epoch_event_per_epoch():
    x, y = blobs(100)
    val = blobs(40, seed=1)
    model = small_net()
    rec = Recorder()
    result = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=3, batch_size=32, val=val, callback=rec, generator=torch.Generator().manual_seed(0))
    assert isinstance(result, FitResult) and result.outcome == "completed"
    steps, epochs = rec.of("step"), rec.of("epoch")
    assert len(steps) == 3 * 4  # ceil(100 / 32) = 4 batches per epoch
    assert len(epochs) == 3
    assert len(rec.events) == 15  # nothing else
    for e in steps:
        assert set(e) == STEP_KEYS
        assert 0.0 <= e["acc"] <= 1.0 and (e["acc"] * 32) % 1 < 1e-9 or e["step"] % 4 == 3  # correct / batch
        assert e["lr"] == 0.1
        assert math.isfinite(e["loss"])
    assert [e["step"] for e in steps] == list(range(12))  # counted across epochs
    assert [e["epoch"] for e in steps] == [0] * 4 + [1] * 4 + [2] * 4
    for i, e in enumerate(epochs):
        assert set(e) == EPOCH_KEYS
        assert e["epoch"] == i and e["lr"] == 0.1 and e["seconds"] >= 0
        assert 0.0 <= e["train_acc"] <= 1.0 and 0.0 <= e["val_acc"] <= 1.0
    # events arrive in order: each epoch event follows its four steps
    assert [e["event"] for e in rec.events[:5]] == ["step"] * 4 + ["epoch"]
    # the history is the epoch events; step losses are the step events' losses
    assert result.epochs == epochs
    assert result.final == epochs[-1]
    assert result.step_losses == [e["loss"] for e in steps]


def test_epoch_train_loss_is_the_sample_weighted_mean_of_its_steps():
    x, y = blobs(100)
    model = small_net()
    rec = Recorder()
    fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
        epochs=2, batch_size=32, callback=rec, generator=torch.Generator().manual_seed(0))
    steps, epochs = rec.of("step"), rec.of("epoch")
    sizes = [32, 32, 32, 4]
    for k in range(2):
        losses = [e["loss"] for e in steps[4 * k:4 * k + 4]]
        expected = sum(l * s for l, s in zip(losses, sizes)) / 100
        assert epochs[k]["train_loss"] == pytest.approx(expected, rel=1e-12)


def test_epoch_metrics_equal_evaluate_when_nothing_changes():
    """With lr = 0 the weights never move, so the epoch's metrics are those of `evaluate`."""
    x, y = blobs(60)
    val = blobs(30, seed=3)
    model = small_net(seed=5)
    loss_fn = nn.CrossEntropyLoss()
    before_train, before_val = evaluate(model, loss_fn, (x, y)), evaluate(model, loss_fn, val)
    result = fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=2, val=val)
    for record in result.epochs:
        assert record["train_loss"] == pytest.approx(before_train["loss"], rel=1e-6)
        assert record["train_acc"] == before_train["acc"]
        assert record["val_loss"] == pytest.approx(before_val["loss"], rel=1e-6)
        assert record["val_acc"] == before_val["acc"]


def test_regression_epochs_have_no_accuracy():
    x = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    y = x.sum(dim=1, keepdim=True)
    model = nn.Linear(3, 1)
    result = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01), (x, y),
                 epochs=2, val=(x, y))
    assert result.outcome == "completed"
    for record in result.epochs:
        assert "train_acc" not in record and "val_acc" not in record
        assert {"train_loss", "val_loss", "lr"} <= set(record)


@pytest.mark.parametrize("n, batch_size, steps_per_epoch", [
    (100, None, 1),  # full batch
    (100, 100, 1),  # batch as large as the data: full batch
    (100, 500, 1),
    (100, 32, 4),
    (100, 25, 4),
    (100, 1, 100),
    (7, 3, 3),
])
def test_steps_per_epoch(n, batch_size, steps_per_epoch):
    x, y = blobs(n)
    model = small_net()
    rec = Recorder()
    result = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01), (x, y),
                 epochs=2, batch_size=batch_size, callback=rec)
    assert len(rec.of("step")) == 2 * steps_per_epoch
    assert len(rec.of("epoch")) == 2
    assert len(result.step_losses) == 2 * steps_per_epoch


# --- stopping and diverging ---------------------------------------------------------------------

@pytest.mark.parametrize("k, finished_epochs", [(1, 0), (4, 0), (5, 1), (10, 2), (12, 2), (13, 3)])
def test_listener_stop_keeps_partial_history(k, finished_epochs):
    """n = 100, batch 32: 4 steps per epoch; stop at the k-th step event.

    An epoch whose last step was stopped is not finished: its epoch event never comes.
    """
    x, y = blobs(100)
    model = small_net()
    seen = []

    def listener(event):
        seen.append(event)
        if event["event"] == "step" and event["step"] == k - 1:
            raise StopTraining

    result = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=5, batch_size=32, callback=listener)
    assert result.outcome == "stopped"
    assert len(result.epochs) == finished_epochs
    assert [e["epoch"] for e in result.epochs] == list(range(finished_epochs))
    assert len(result.step_losses) == k
    assert seen[-1]["event"] == "step" and seen[-1]["step"] == k - 1  # nothing after the stop
    assert len([e for e in seen if e["event"] == "epoch"]) == finished_epochs


def test_stop_on_an_epoch_event_keeps_that_epoch():
    x, y = blobs(50)
    model = small_net()

    def listener(event):
        if event["event"] == "epoch" and event["epoch"] == 1:
            raise StopTraining

    result = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=10, callback=listener)
    assert result.outcome == "stopped"
    assert [e["epoch"] for e in result.epochs] == [0, 1]
    assert len(result.step_losses) == 2


def test_other_listener_errors_propagate():
    x, y = blobs(20)
    model = small_net()

    def listener(event):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
            epochs=1, callback=listener)


def test_huge_learning_rate_diverges_without_exception():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = (x @ torch.tensor([1.0, 2.0, 3.0])).unsqueeze(1)  # float targets: regression
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    rec = Recorder()
    result = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=1e6), (x, y),
                 epochs=50, callback=rec)
    assert result.outcome == "diverged"
    diverged = rec.of("diverged")
    assert len(diverged) == 1
    assert rec.events[-1] is diverged[0]  # the last event
    assert not math.isfinite(diverged[0]["loss"])
    assert diverged[0]["step"] == len(result.step_losses)  # the step that was not taken
    assert {"event", "epoch", "step", "loss"} <= set(diverged[0])
    # the history before the blow-up is kept, and only finite losses are in it
    assert 1 <= len(result.step_losses) < 50
    assert all(math.isfinite(v) for v in result.step_losses)
    assert len(result.epochs) == diverged[0]["epoch"]
    assert result.step_losses[-1] > 1e6 * result.step_losses[0]  # it really blew up


def test_nan_loss_at_the_first_step_diverges():
    x = torch.tensor([[float("nan"), 1.0]] * 4)
    y = torch.zeros(4, 1)
    model = nn.Linear(2, 1)
    before = copy.deepcopy(model.state_dict())
    rec = Recorder()
    result = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=3, callback=rec)
    assert result.outcome == "diverged"
    assert result.epochs == [] and result.step_losses == []
    assert [e["event"] for e in rec.events] == ["diverged"]
    assert math.isnan(rec.events[0]["loss"])
    for key, value in model.state_dict().items():  # no step was taken on the NaN loss
        assert torch.equal(value, before[key])


# --- exactness and reproducibility --------------------------------------------------------------

def _textbook_full_batch(model, loss_fn, optimizer, x, y, epochs):
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("make_optimizer", [
    lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    lambda params: torch.optim.Adam(params, lr=0.01),
], ids=["sgd-momentum", "adam"])
def test_full_batch_fit_equals_the_textbook_loop(make_optimizer):
    x, y = blobs(80)
    loss_fn = nn.CrossEntropyLoss()
    a = small_net(seed=3)
    b = copy.deepcopy(a)
    fit(a, loss_fn, make_optimizer(a.parameters()), (x, y), epochs=10)
    _textbook_full_batch(b, loss_fn, make_optimizer(b.parameters()), x, y, epochs=10)
    moved = False
    initial = small_net(seed=3).state_dict()
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name
        moved |= not torch.equal(pa, initial[name])
    assert moved  # training did something


def test_mini_batch_fit_equals_a_textbook_loop_with_the_same_permutations():
    x, y = blobs(50)
    loss_fn = nn.CrossEntropyLoss()
    a = small_net(seed=4)
    b = copy.deepcopy(a)
    fit(a, loss_fn, torch.optim.SGD(a.parameters(), lr=0.05), (x, y), epochs=4, batch_size=16,
        generator=torch.Generator().manual_seed(11))
    opt = torch.optim.SGD(b.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(11)
    for _ in range(4):
        order = torch.randperm(50, generator=g)
        for i in range(0, 50, 16):
            idx = order[i:i + 16]
            opt.zero_grad()
            loss_fn(b(x[idx]), y[idx]).backward()
            opt.step()
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name


def _shuffled_run(gen_seed: int) -> tuple[nn.Module, FitResult]:
    x, y = blobs(100)
    model = small_net(seed=0)
    result = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=3, batch_size=16, generator=torch.Generator().manual_seed(gen_seed))
    return model, result


def test_same_generator_seed_gives_the_same_result():
    m1, r1 = _shuffled_run(7)
    torch.manual_seed(12345)  # the global RNG must not matter when a generator is given
    m2, r2 = _shuffled_run(7)
    assert r1.step_losses == r2.step_losses
    for (name, p1), (_, p2) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(p1, p2), name
    m3, r3 = _shuffled_run(8)  # a different shuffle really differs
    assert r3.step_losses != r1.step_losses
    assert not torch.equal(m3[0].weight, m1[0].weight)


def test_start_epoch_numbers_the_epochs():
    x, y = blobs(20)
    model = small_net()
    result = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=3, start_epoch=5)
    assert [e["epoch"] for e in result.epochs] == [5, 6, 7]


# --- evaluate -----------------------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
def test_evaluate_restores_the_mode(training):
    x, y = blobs(40)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    model.train(training)
    evaluate(model, nn.CrossEntropyLoss(), (x, y))
    assert model.training is training
    assert all(m.training is training for m in model.modules())


def test_evaluate_runs_in_eval_mode_without_grad():
    x, y = blobs(40)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    first = evaluate(model, loss_fn, (x, y))
    second = evaluate(model, loss_fn, (x, y))
    assert first == second  # dropout off: deterministic
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert first["loss"] == pytest.approx(loss_fn(out, y).item(), rel=1e-6)
    assert first["acc"] == (out.argmax(1) == y).double().mean().item()
    assert all(p.grad is None for p in model.parameters())


def test_evaluate_batches_give_the_same_numbers():
    x, y = blobs(103)
    model = small_net(seed=2)
    loss_fn = nn.CrossEntropyLoss()
    whole = evaluate(model, loss_fn, (x, y))
    chunked = evaluate(model, loss_fn, (x, y), batch_size=10)
    assert chunked["acc"] == whole["acc"]
    assert chunked["loss"] == pytest.approx(whole["loss"], rel=1e-6)


# --- learning -----------------------------------------------------------------------------------

def test_fit_learns_a_separable_problem():
    x, y = blobs(200, gap=1.0)
    model = small_net(seed=1)
    loss_fn = nn.CrossEntropyLoss()
    before = evaluate(model, loss_fn, (x, y))
    result = fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.5), (x, y), epochs=20,
                 batch_size=32, generator=torch.Generator().manual_seed(0))
    after = evaluate(model, loss_fn, (x, y))
    assert result.outcome == "completed"
    losses = [e["train_loss"] for e in result.epochs]
    assert losses[-1] < 0.5 * losses[0]
    assert after["loss"] < 0.5 * before["loss"]
    assert after["acc"] >= 0.95
    assert result.final["train_acc"] >= 0.9


def test_score_train_scores_the_training_set_like_val_and_keeps_the_running_averages():
    x, y = blobs(100)
    val = blobs(40, seed=1)
    model = small_net()
    loss_fn = nn.CrossEntropyLoss()
    rec = Recorder()
    scored = []
    listen = lambda e: (rec(e), e["event"] == "epoch" and scored.append(evaluate(model, loss_fn, (x, y))))  # noqa: E731
    result = fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.5), (x, y), epochs=2, batch_size=32,
                 val=val, callback=listen, generator=torch.Generator().manual_seed(0), score_train=True)
    steps, sizes = rec.of("step"), [32, 32, 32, 4]
    for k, (record, after) in enumerate(zip(result.epochs, scored)):
        assert set(record) == EPOCH_KEYS | {"running_loss", "running_acc"}
        assert record["train_loss"] == pytest.approx(after["loss"], rel=1e-6) and record["train_acc"] == after["acc"]
        batch = steps[4 * k:4 * k + 4]
        assert record["running_loss"] == pytest.approx(sum(e["loss"] * s for e, s in zip(batch, sizes)) / 100)
        assert record["running_acc"] == pytest.approx(sum(e["acc"] * s for e, s in zip(batch, sizes)) / 100)
    assert result.epochs[0]["running_loss"] != pytest.approx(result.epochs[0]["train_loss"])  # they do differ
