"""Checkpoints: a resume continues exactly as an uninterrupted run, and every damaged or hostile file
is refused, with its reason, before any of it is used."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
import torch

from nnkit import checkpoints
from nnkit.classify import DigitNet
from nnkit.experiments import classification as C
from test_nnkit_classify import trained as trained_with_test

ADAM = C.ClassificationParams(hidden_size=32, optimizer="adam", lr=0.01)


def trained(p, data, epochs):
    """A run trained `epochs` epochs to completion (test_nnkit_classify's helper, without the validation set)."""
    return trained_with_test(p, data, epochs)[0]


def saved(run, p) -> bytes:
    return checkpoints.checkpoint(run.model, run.optimizer, run.history, run.steps, C.settings(p))


def resumed(blob: bytes, data):
    return C.resume(checkpoints.read_model_file(blob, "c.pt").checkpoint, torch.device("cpu"), lambda name: data)


def assert_same_optimizer_state(a: torch.optim.Optimizer, b: torch.optim.Optimizer):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys() and sa["state"]
    for index in sa["state"]:
        assert sa["state"][index].keys() == sb["state"][index].keys()
        for key, value in sa["state"][index].items():
            assert torch.allclose(value.cpu(), sb["state"][index][key].cpu(), atol=1e-6, rtol=0), (index, key)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(x.cpu(), y.cpu(), atol=1e-6, rtol=0), name  # a file's tensors load on the cpu


@pytest.mark.parametrize("p", [ADAM, replace(ADAM, optimizer="sgd", lr=0.1)], ids=["adam", "sgd"])
def test_resume_then_train_on_equals_an_uninterrupted_run(digits, p):
    straight = trained(p, digits, 5)
    first = trained(p, digits, 2)
    params, run = resumed(saved(first, p), digits)
    assert params == p and run.epoch == 2 and run.loaded
    train, val, _ = C.tensors(digits, p, torch.device("cpu"))
    run.train(train, val, 3)
    assert [e["epoch"] for e in run.history] == [0, 1, 2, 3, 4]
    assert_same_weights(straight.model, run.model)
    if p.optimizer == "adam":  # SGD without momentum keeps no state
        assert_same_optimizer_state(straight.optimizer, run.optimizer)
    for ours, theirs in zip(run.history, straight.history):
        assert all(ours[k] == pytest.approx(theirs[k], abs=1e-6) for k in checkpoints.HISTORY_FIELDS)
    assert len(run.steps) == len(straight.steps)
    assert [s[0] for s in run.steps] == pytest.approx([s[0] for s in straight.steps], abs=1e-5)


@pytest.mark.parametrize("kernel", [None, False], ids=["older-file", "unfused"])
def test_a_checkpoint_of_an_unfused_adam_resumes_on_the_fused_kernel(digits, kernel):
    """Files written before nnkit used torch's fused kernel (or where the device has none) say
    fused=None or False: they resume, on this optimizer's own kernel, and end like a straight run."""
    straight = trained(ADAM, digits, 4)
    content = torch.load(io.BytesIO(saved(trained(ADAM, digits, 2), ADAM)), weights_only=True)
    assert content["optimizer"]["param_groups"][0]["fused"] is True
    content["optimizer"]["param_groups"][0]["fused"] = kernel
    blob = io.BytesIO()
    torch.save(content, blob)
    _, run = resumed(blob.getvalue(), digits)
    assert run.optimizer.param_groups[0]["fused"] is True
    train, val, _ = C.tensors(digits, ADAM, torch.device("cpu"))
    run.train(train, val, 2)
    assert_same_weights(straight.model, run.model)
    assert_same_optimizer_state(straight.optimizer, run.optimizer)


def test_a_resumed_run_is_the_saved_one(digits):
    """Weights, optimizer state, history and steps as saved (a resume that forgot any of them fails here)."""
    first = trained(ADAM, digits, 2)
    _, run = resumed(saved(first, ADAM), digits)
    assert_same_weights(first.model, run.model)
    assert_same_optimizer_state(first.optimizer, run.optimizer)
    assert [e["val_acc"] for e in run.history] == [e["val_acc"] for e in first.history]
    assert [s[0] for s in run.steps] == pytest.approx([s[0] for s in first.steps], rel=1e-7)
    assert [s[1] for s in run.steps] == pytest.approx([s[1] for s in first.steps], rel=1e-6)


def content_of(blob: bytes) -> dict:
    return torch.load(io.BytesIO(blob), weights_only=True)


def blob_of(content: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(content, buffer)
    return buffer.getvalue()


def _set(path: str, value):
    """A damage: put `value` at `path` ("settings.lr", "optimizer.param_groups.0.lr") in the file's content."""
    def damage(content):
        *parents, last = path.split(".")
        target = content
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return damage


def _drop(path: str):
    def damage(content):
        *parents, last = path.split(".")
        target = content
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[int(last) if last.isdigit() else last]
    return damage


def _format_2(content: dict) -> None:
    """A checkpoint as format 2 wrote it: four history columns, no val_fraction or loss in its settings."""
    content["format"] = "nnkit-checkpoint-2"
    content["history"] = content["history"][:, :4]
    del content["settings"]["val_fraction"], content["settings"]["loss"]


OLD_HISTORY = [{"epoch": 0, "train_loss": 0.5, "val_loss": 0.4, "val_acc": 0.9}]  # no train_acc
ROW = [0.5, 0.9, 0.4, 0.9, 0.6, 0.8]  # train_loss, train_acc, val_loss, val_acc, running_loss, running_acc


def _history(*changes: tuple[int, float]) -> torch.Tensor:
    row = list(ROW)
    for column, value in changes:
        row[column] = value
    return torch.tensor([row] * 2, dtype=torch.float64)


DAMAGES = {
    # the history: a table of checkpoints.HISTORY_FIELDS per finished epoch
    "history without train_acc (a list, as format 1 wrote it)": (_set("history", OLD_HISTORY), "corrupt"),
    "history with a column missing": (_set("history", torch.zeros(2, 5, dtype=torch.float64)), "corrupt"),
    "history of format 2 (four columns)": (_set("history", torch.zeros(2, 4, dtype=torch.float64)), "corrupt"),
    "history as text": (_set("history", "abc"), "corrupt"),
    "history with a string for a loss": (_set("history", [["0.5", *ROW[1:]]]), "corrupt"),
    "history with NaN": (_set("history", _history((0, float("nan")))), "corrupt"),
    "history with an accuracy of 1.5": (_set("history", _history((1, 1.5))), "corrupt"),
    "history with a running accuracy of 1.5": (_set("history", _history((5, 1.5))), "corrupt"),
    "history with a negative running loss": (_set("history", _history((4, -0.1))), "corrupt"),
    "epoch count unlike the history": (_set("epoch", 7), "corrupt"),
    "epoch as text": (_set("epoch", "2"), "corrupt"),
    # the steps: (loss, batch accuracy) pairs
    "steps as a list of numbers": (_set("steps", [1, 2]), "corrupt"),
    "steps with an infinite loss": (_set("steps", torch.tensor([[float("inf"), 0.5]])), "corrupt"),
    "steps as integers": (_set("steps", torch.ones(3, 2, dtype=torch.int64)), "corrupt"),
    # the settings: every one present, of its type, in range
    "settings missing hidden_size": (_drop("settings.hidden_size"), "corrupt"),
    "settings with text for the learning rate": (_set("settings.lr", "0.01"), "corrupt"),
    "settings with a word for the learning rate": (_set("settings.lr", "abc"), "corrupt"),
    "settings with a float batch size": (_set("settings.batch_size", 32.5), "corrupt"),
    "settings out of range": (_set("settings.hidden_size", 100_000), "corrupt"),
    "settings as a list": (_set("settings", [1, 2]), "corrupt"),
    # the optimizer: what Adam keeps, of the right kinds and shapes
    "no optimizer": (_drop("optimizer"), "corrupt"),
    "empty optimizer": (_set("optimizer", {}), "corrupt"),
    "optimizer lr as text": (_set("optimizer.param_groups.0.lr", "0.01"), "corrupt"),
    "optimizer lr unlike the settings": (_set("optimizer.param_groups.0.lr", 0.5), "corrupt"),
    "optimizer betas too short": (_set("optimizer.param_groups.0.betas", (0.9,)), "corrupt"),
    "optimizer without eps": (_drop("optimizer.param_groups.0.eps"), "corrupt"),
    "optimizer for other weights": (_set("optimizer.param_groups.0.params", [0, 1, 2, 3, 4]), "corrupt"),
    "optimizer state of the wrong shape": (_set("optimizer.state.0.exp_avg", torch.zeros(3)), "corrupt"),
    "optimizer state missing exp_avg_sq": (_drop("optimizer.state.0.exp_avg_sq"), "corrupt"),
    "optimizer step as text": (_set("optimizer.state.0.step", "3"), "corrupt"),
    "optimizer state for weight 9": (lambda c: c["optimizer"]["state"].update({9: c["optimizer"]["state"][0]}),
                                     "corrupt"),
    "a checkpoint of format 1": (_set("format", "nnkit-checkpoint-1"), "old_format"),
    "a checkpoint of format 2, from before the validation split": (_format_2, "no_validation"),
    # the weights
    "weights that are not tensors": (_set("model", {"w": 1}), "corrupt"),
    "weights of another shape": (lambda c: c["model"].update({"layers.0.weight": torch.zeros(3, 3)}), "mismatch"),
    # the lengths, checked before anything that grows with them
    "10,001 epochs": (_set("history", torch.full((10_001, 6), 0.5, dtype=torch.float64)), "too_long"),
    "500,001 steps": (_set("steps", torch.full((500_001, 2), 0.5)), "too_long"),
}


@pytest.mark.parametrize("case", DAMAGES)
def test_a_damaged_checkpoint_is_refused_with_its_reason_before_any_resume(digits, case):
    damage, code = DAMAGES[case]
    content = content_of(saved(trained(ADAM, digits, 1), ADAM))
    damage(content)
    with pytest.raises(checkpoints.ModelFileError) as err:
        resumed(blob_of(content), digits)  # read_model_file, then resume: the page's path
    assert err.value.code == code, str(err.value)


def test_an_older_pickled_history_of_two_million_entries_is_refused_unread(digits, monkeypatch):
    """4 MB of references to one dict took 4.4 s to unpickle before it was checked: now it is never unpickled."""
    content = content_of(saved(trained(ADAM, digits, 1), ADAM))
    entry = {"event": "epoch", "epoch": 0, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.0, "val_acc": 0.5}
    content["history"] = [entry] * 2_000_000
    blob = blob_of(content)
    assert len(blob) < checkpoints.MAX_BYTES
    monkeypatch.setattr(checkpoints, "_read_pickle", lambda data: pytest.fail("unpickled a hostile file"))
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(blob, "c.pt")
    assert err.value.code == "corrupt" and "structure" in str(err.value)


def test_the_largest_network_with_the_longest_history_still_fits():
    """What the page lets a learner train can be saved and loaded back (MNIST's 784-512x3-10 with Adam)."""
    model = DigitNet(784, (512, 512, 512), 10)
    assert sum(p.numel() for p in model.parameters()) == 932_362
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.zeros(1, 784)).sum().backward()
    optimizer.step()
    history = [{k: 0.5 for k in checkpoints.HISTORY_FIELDS}] * checkpoints.MAX_EPOCHS
    blob = checkpoints.checkpoint(model, optimizer, history, [(0.5, 0.5)] * checkpoints.MAX_STEPS, {})
    assert len(blob) < checkpoints.MAX_BYTES
    loaded = checkpoints.read_model_file(blob, "c.pt")
    assert len(loaded.checkpoint["history"]) == checkpoints.MAX_EPOCHS
    assert len(loaded.checkpoint["steps"]) == checkpoints.MAX_STEPS
