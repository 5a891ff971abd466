"""Classification in nnkit: accuracy on real digits, exact resume, model files read safely."""

from __future__ import annotations

import io
import os
import pickle

from dataclasses import replace

import numpy as np
import pytest
import torch

from nnkit import checkpoints
from nnkit.classify import DigitNet, confident_mistakes, evaluate_run, predict
from nnkit.datasets.images import load
from nnkit.experiments import classification as C
from nnkit.train import evaluate


def trained(p, data, epochs):
    """A run trained `epochs` epochs to completion, and the validation set it watched."""
    train, val, _ = C.tensors(data, p, torch.device("cpu"))
    run = C.start(p, data, torch.device("cpu"))
    assert run.train(train, val, epochs).outcome == "completed"
    return run, val


def test_mlp_on_real_digits_reaches_95_percent_in_five_epochs(digits):
    run, val = trained(C.ClassificationParams(), digits, 5)
    result = evaluate_run(run.model, val, 10)
    assert result.accuracy >= 0.95, result.accuracy
    assert result.confusion.sum() == len(val[1]) == 287  # the validation set: 20% of the 1,438 training images
    assert result.per_class.min() > 0.8
    assert run.history[-1]["val_acc"] == pytest.approx(result.accuracy)


def test_softmax_regression_is_one_linear_layer(digits):
    model = DigitNet(64, (), 10)
    assert [type(m).__name__ for m in model.layers] == ["Linear"]
    assert model(torch.zeros(3, 8, 8)).shape == (3, 10)  # the view(-1, 64) flattening


def test_the_training_set_is_shuffled_and_the_sets_scored_in_order(digits):
    """What the model itself is fed, recorded by a forward hook: in training mode every training
    image once per epoch, in an order that is not the data's and changes each epoch; in eval mode,
    at the end of each epoch, the training set and then the validation set in their own order. The
    test set is never fed while training."""
    p = C.ClassificationParams(batch_size=64)
    train, val, test = C.tensors(digits, p, torch.device("cpu"))
    run = C.start(p, digits, torch.device("cpu"))
    fed = {True: [], False: []}  # model.training -> the batches it was given
    run.model.register_forward_pre_hook(lambda model, args: fed[model.training].append(args[0].detach().clone()))
    assert run.train(train, val, 2).outcome == "completed"
    n, batches = len(train[0]), -(-len(train[0]) // 64)
    assert len(fed[True]) == 2 * batches
    epochs = [torch.cat(fed[True][e * batches:(e + 1) * batches]).reshape(n, -1) for e in range(2)]
    images = train[0].reshape(n, -1)
    rows = lambda x: sorted(map(bytes, x.numpy().view(np.uint8).reshape(len(x), -1)))  # noqa: E731
    for seen in epochs:
        assert rows(seen) == rows(images)  # every train image, each once
        assert not torch.equal(seen, images)  # ... not in the data's order
    assert not torch.equal(epochs[0], epochs[1])  # ... and in a new order each epoch
    assert torch.equal(torch.cat(fed[False]), torch.cat([train[0], val[0]] * 2))  # scored in order, each epoch
    again = load("digits")
    assert torch.equal(again.test_y, digits.test_y) and torch.equal(again.test_x, digits.test_x)


def test_the_validation_split_is_stratified_seeded_and_apart_from_training(digits):
    p = C.ClassificationParams()
    train, val = C.split(digits, p)
    assert len(train) + len(val) == len(digits.train_y) == 1438
    assert set(train.tolist()).isdisjoint(val.tolist())
    counts = torch.bincount(digits.train_y, minlength=10)
    assert torch.bincount(digits.train_y[val], minlength=10).tolist() == [round(int(c) * 0.2) for c in counts]
    assert torch.equal(C.split(digits, p)[1], val)  # the same seed, the same split
    assert not torch.equal(C.split(digits, replace(p, seed=1))[1], val)
    assert len(C.split(digits, replace(p, val_fraction=0.5))[1]) == sum(round(int(c) * 0.5) for c in counts)


def test_after_epoch_one_training_accuracy_is_measured_like_validation(digits):
    """The epoch's train_acc and train_loss are nnkit.train.evaluate over the whole training set in
    eval mode (not the running average over the epoch's batches, kept as running_acc), so that they
    compare with val_acc: measured at the end of the first epoch."""
    p = C.ClassificationParams()
    train, val, _ = C.tensors(digits, p, torch.device("cpu"))
    run = C.start(p, digits, torch.device("cpu"))
    scored = []
    run.train(train, val, 1, callback=lambda e: e["event"] == "epoch" and scored.append(
        (evaluate(run.model, torch.nn.CrossEntropyLoss(), train), evaluate(run.model, torch.nn.CrossEntropyLoss(), val))))
    epoch, ((on_train, on_val),) = run.history[0], scored
    assert epoch["train_acc"] == on_train["acc"] and epoch["train_loss"] == pytest.approx(on_train["loss"], rel=1e-6)
    assert epoch["val_acc"] == on_val["acc"]
    steps = run.steps
    assert epoch["running_acc"] == pytest.approx(sum(a * len_ for (_, a), len_ in zip(steps, _sizes(len(train[1]), 32)))
                                                 / len(train[1]))
    assert epoch["running_acc"] < epoch["train_acc"] - 0.1  # what the page showed as training accuracy before


def _sizes(n: int, batch: int) -> list[int]:
    return [min(batch, n - i) for i in range(0, n, batch)]


@pytest.mark.parametrize("writer, filename", [(checkpoints.state_dict_pt, "w.pt"),
                                              (checkpoints.state_dict_safetensors, "w.safetensors")])
def test_state_dict_files_round_trip(digits, writer, filename):
    run, test = trained(C.ClassificationParams(), digits, 1)
    loaded = checkpoints.read_model_file(writer(run.model), filename)
    assert loaded.kind == "state_dict"
    fresh = DigitNet(64, (128,), 10)
    checkpoints.load_weights(fresh, loaded.state_dict)
    assert evaluate_run(fresh, test, 10).accuracy == evaluate_run(run.model, test, 10).accuracy


def test_a_whole_model_file_is_refused_with_the_reason(digits):
    blob = checkpoints.whole_model(DigitNet(64, (16,), 10))
    assert torch.load(io.BytesIO(blob), weights_only=False).input_size == 64  # it is a real whole model
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(blob, "model.pt")
    assert err.value.code == "whole_model"


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("wrap", ["torch.save", "raw pickle"])
def test_a_malicious_pickle_runs_nothing(tmp_path, wrap):
    target = tmp_path / "pwned"
    if wrap == "torch.save":
        buffer = io.BytesIO()
        torch.save({"layers.0.weight": _Payload(str(target))}, buffer)
        blob = buffer.getvalue()
    else:
        blob = pickle.dumps(_Payload(str(target)))
    pickle.loads(pickle.dumps(_Payload(str(tmp_path / "control"))))  # the payload does work when unpickled
    assert (tmp_path / "control").exists()
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(blob, "evil.pt")
    assert err.value.code in ("whole_model", "corrupt")
    assert not target.exists()


@pytest.mark.parametrize("blob, code", [(b"", "empty"), (b"PK\x03\x04 not a zip at all", "corrupt"),
                                        (b"\x00\x01garbage", "corrupt"), (b"x" * 100, "corrupt")])
def test_bad_files_say_what_is_wrong(blob, code):
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(blob, "f.pt")
    assert err.value.code == code


def test_oversized_and_truncated_and_non_weight_files():
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(b"x" * 101, "f.pt", max_bytes=100)
    assert err.value.code == "too_big"
    good = checkpoints.state_dict_pt(DigitNet(64, (16,), 10))
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(good[: len(good) // 2], "f.pt")
    assert err.value.code == "corrupt"
    buffer = io.BytesIO()
    torch.save({"just": 1, "numbers": [2, 3]}, buffer)
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(buffer.getvalue(), "f.pt")
    assert err.value.code == "not_weights"
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(b"\x08\x00\x00\x00\x00\x00\x00\x00{bad json", "f.safetensors")
    assert err.value.code == "corrupt"


def test_a_torchscript_file_is_refused(tmp_path):
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    path = tmp_path / "m.pt"
    scripted.save(str(path))
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(path.read_bytes(), "m.pt")
    assert err.value.code == "torchscript"


def test_another_architecture_names_the_layers():
    wide = checkpoints.read_model_file(checkpoints.state_dict_pt(DigitNet(784, (256,), 10)), "w.pt")
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.load_weights(DigitNet(64, (128, 128), 10), wide.state_dict)
    layers = err.value.details["layers"]
    assert "layers.0.weight: file (256, 784), model (128, 64)" in layers
    assert "layers.4.weight: missing" in layers


def test_predictions_and_mistakes(digits):
    run, val = trained(C.ClassificationParams(), digits, 3)
    result = evaluate_run(run.model, val, 10)
    probabilities = predict(run.model, val[0][0].numpy())
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert probabilities.argmax() == result.predicted[0]
    labels = val[1].numpy()
    worst = confident_mistakes(result, labels, k=5)
    assert worst and all(result.predicted[i] != labels[i] for i in worst)
    confidences = [result.probabilities[i].max() for i in worst]
    assert confidences == sorted(confidences, reverse=True)


def test_cross_entropy_beats_mse_and_the_binary_classifier_learns(digits):
    curves = C.compare_losses(C.ClassificationParams(), digits, epochs=5)
    assert curves["cross_entropy"][-1] > curves["mse"][-1]
    toy = C.binary_toy(C.ClassificationParams(), epochs=200)
    assert toy["accuracy"] > 0.95
    assert ((toy["region"]["p"] >= 0) & (toy["region"]["p"] <= 1)).all()


def test_cli_reports_accuracy():
    import json
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "classification", "--set", "dataset=digits",
                           "--set", "epochs=3", "--json"], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["epochs"] == 3 and result["sizes"] == {"train": 1151, "val": 287, "test": 359}
    history = result["history"]
    assert [e["epoch"] for e in history] == [0, 1, 2]
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "running_loss", "running_acc"} <= set(history[0])
    assert result["val_accuracy"] == history[-1]["val_acc"] and result["train_accuracy"] == history[-1]["train_acc"]
    assert len(result["val_per_class_accuracy"]) == 10
    assert 0.8 < result["test_accuracy"] <= 1.0 and result["test_accuracy"] not in [e["val_acc"] for e in history]


def test_a_compressed_file_that_would_unpack_to_gigabytes_is_refused_unread():
    import zipfile

    plain = checkpoints.state_dict_pt(DigitNet(64, (16,), 10))
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.infolist():
            out.writestr(entry.filename, source.read(entry))
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(packed.getvalue(), "w.pt")
    assert err.value.code == "compressed"  # small when unpacked, but not as torch.save writes
    bomb = zip_bomb(checkpoints.MAX_BYTES + 1)
    assert len(bomb) < 100_000
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(bomb, "w.pt")
    assert err.value.code == "unpacks_too_big"
    assert err.value.details == {"size": checkpoints.MAX_BYTES + 1, "limit": checkpoints.MAX_BYTES}
    assert f"unpacks to {checkpoints.MAX_BYTES + 1:,} bytes" in str(err.value)
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(1_000_000)}, buffer)  # 4 MB of tensor data in a 4 MB limit's stead
    with pytest.raises(checkpoints.ModelFileError) as err:
        checkpoints.read_model_file(buffer.getvalue(), "w.pt", max_bytes=1_000_000)
    assert err.value.code == "too_big" and err.value.details["size"] == len(buffer.getvalue())


def zip_bomb(unpacked: int) -> bytes:
    """A small zip file holding one entry of `unpacked` zero bytes, compressed."""
    import zipfile

    out, chunk = io.BytesIO(), bytes(2**20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("archive/data.pkl", "w") as entry:
        for start in range(0, unpacked, len(chunk)):  # written a MB at a time: never the whole in memory
            entry.write(chunk[: unpacked - start])
    return out.getvalue()


def test_the_same_seed_gives_the_same_weights_while_other_sessions_build_models(digits):
    import threading

    from nnkit.device import seeded

    reference = C.start(C.ClassificationParams(), digits, "cpu").model.state_dict()
    stop = threading.Event()

    def other_visitor():
        while not stop.is_set():
            with seeded(7):
                torch.nn.Linear(64, 64)

    thread = threading.Thread(target=other_visitor)
    thread.start()
    try:
        for _ in range(30):
            weights = C.start(C.ClassificationParams(), digits, "cpu").model.state_dict()
            assert all(torch.equal(weights[k], reference[k]) for k in reference)
    finally:
        stop.set()
        thread.join()


def test_the_cli_says_a_missing_dataset_in_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "classification", "--set", "dataset=mnist"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NNKIT_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnkit:") and "data download mnist" in lines[0]
