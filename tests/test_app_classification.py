"""The Classification page under AppTest: live training, evaluation, model files, the server cap."""

from __future__ import annotations

import re
import time

import pytest
import torch

from conftest import open_page
from nnkit import checkpoints
from nnkit.classify import DigitNet
from nnkit.experiments import classification as C
from ui.locales import en, zh


@pytest.fixture(autouse=True)
def no_training_left_behind():
    """A job still running when the interpreter exits would abort it: stop every job a test started."""
    import threading

    yield
    for thread in threading.enumerate():
        if thread.name == "nnkit-training":
            for obj in __import__("gc").get_referrers(thread):
                if hasattr(obj, "stop_requested"):
                    obj.stop()
            thread.join(timeout=30)


def train_to_the_end(at, timeout: float = 120):
    """Click Train, follow the job until it ends, and check that it ran every epoch asked for."""
    at.button(key="cls_train").click().run()
    job = at.session_state["cls"]["job"]
    assert job is not None, [w.value for w in at.warning]  # it started (not over the server's cap)
    deadline = time.monotonic() + timeout
    while job.running:
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.3)
        at.run()
    at.run()
    assert job.error is None, repr(job.error)
    assert job.result.outcome == "completed", job.result.outcome
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_train_evaluate_and_draw_views(lang):
    at = train_to_the_end(open_page("classification", lang, {"epochs": "3"}))
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    accuracy = float(metric(at, strings["cls.test_acc"]).rstrip("%"))
    assert accuracy > 80
    run = at.session_state["cls"]["run"]
    assert run.epoch == 3 and len(run.steps) == 3 * 45  # 1,438 training images in batches of 32
    # evaluation: per-class bars, the confusion matrix, the confident mistakes' probability bars
    assert len(at.get("vega_lite_chart")) >= 2 + 1 + 4
    assert any(strings["cls.eval.intro"][:20] in m.value for m in at.markdown)
    # continue: the epochs add up and the curves continue
    train_to_the_end(at)
    assert at.session_state["cls"]["run"].epoch == 6
    assert [e["epoch"] for e in at.session_state["cls"]["run"].history] == list(range(6))


def test_stop_keeps_what_was_learnt_and_training_can_continue():
    at = open_page("classification", "en", {"epochs": "30", "batch_size": "8"})
    at.button(key="cls_train").click().run()
    time.sleep(1.0)
    at.button(key="cls_stop").click().run()
    deadline = time.monotonic() + 30
    while at.session_state["cls"]["job"].running:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        at.run()
    at.run()
    run = at.session_state["cls"]["run"]
    assert 0 < len(run.steps) < 30 * 180 and run.epoch < 30
    assert at.session_state["cls"]["job"].result.outcome == "stopped"
    assert not at.exception


def test_over_the_server_cap_says_busy():
    from ui.training import _slots, max_trainings

    held = [_slots().acquire(blocking=False) for _ in range(max_trainings())]
    try:
        at = open_page("classification")
        at.button(key="cls_train").click().run()
        assert any(w.value == en.STRINGS["cls.train.busy"] for w in at.warning)
        assert not at.exception
    finally:
        for ok in held:
            if ok:
                _slots().release()


def test_abandoned_training_stops_by_itself(monkeypatch):
    from ui import training

    monkeypatch.setattr(training, "ABANDONED_AFTER_S", 0.5)
    at = open_page("classification", "en", {"epochs": "30", "batch_size": "8"})
    at.button(key="cls_train").click().run()
    job = at.session_state["cls"]["job"]
    assert job.finished.wait(timeout=30)  # nobody polls: as if the tab were closed
    assert job.result.outcome == "stopped" and job.result.epochs is not None


def test_a_checkpoint_upload_restores_settings_and_resumes():
    data = C.load("digits")
    p = C.ClassificationParams(hidden_size=64, optimizer="sgd", lr=0.1)
    train, test = C.tensors(data, torch.device("cpu"))
    run = C.start(p, data, torch.device("cpu"))
    run.train(train, test, 2)
    blob = checkpoints.checkpoint(run.model, run.optimizer, run.history, run.steps, C.settings(p))
    at = open_page("classification")
    at.file_uploader(key="cls_model_file").set_value(("run-checkpoint.pt", blob, "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert at.slider(key="hidden_size").value == 64 and at.selectbox(key="optimizer").value == "sgd"
    assert at.session_state["cls"]["run"].epoch == 2
    assert any("checkpoint" in s.value and "2" in s.value for s in at.success)
    train_to_the_end(at)
    assert at.session_state["cls"]["run"].epoch == 2 + C.ClassificationParams().epochs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_model_files_are_explained(lang, tmp_path):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    whole = checkpoints.whole_model(C.start(C.ClassificationParams(), C.load("digits"), "cpu").model)
    wide = checkpoints.state_dict_pt(DigitNet(784, (256,), 10))
    cases = [(whole, "whole_model"), (b"garbage", "corrupt"), (wide, "mismatch")]
    for blob, code in cases:
        at = open_page("classification", lang)
        at.file_uploader(key="cls_model_file").set_value(("m.pt", blob, "application/octet-stream")).run()
        assert not at.exception
        start = strings[f"cls.files.error.{code}"].split("{")[0]
        assert any(e.value.startswith(start) for e in at.error), (code, [e.value for e in at.error])
    assert "layers.0.weight: file (256, 784), model (128, 64)" in at.error[0].value


def test_missing_mnist_falls_back_to_digits_with_the_command(monkeypatch, tmp_path):
    monkeypatch.setenv("NNKIT_DATA_DIR", str(tmp_path))
    at = open_page("classification", "en", {"dataset": "mnist"})
    assert not at.exception
    note = at.info[0].value
    assert "python -m nnkit data download mnist" in note and "8x8" in note
    assert re.search(r"1,797 real handwritten digits", " ".join(c.value for c in at.caption))


@pytest.mark.parametrize("end", ["lo", "hi"])
def test_every_slider_at_its_ends(end):
    from nnkit.experiments.base import specs

    query = {}
    for name, (_, spec) in specs(C.ClassificationParams).items():
        if spec.kind in ("int", "float") and spec.ui:
            value = spec.lo if end == "lo" else spec.hi
            query[name] = str(int(value) if spec.kind == "int" else value)
    at = open_page("classification", "zh", query)
    assert not at.exception, at.exception
    assert not at.warning
    assert at.slider(key="hidden_layers").value == (0 if end == "lo" else 3)


def test_an_uploaded_state_dict_can_be_evaluated_and_drawn_with():
    data = C.load("digits")
    p = C.ClassificationParams()
    train, test = C.tensors(data, torch.device("cpu"))
    run = C.start(p, data, torch.device("cpu"))
    run.train(train, test, 3)
    at = open_page("classification")
    at.file_uploader(key="cls_model_file").set_value(
        ("w.safetensors", checkpoints.state_dict_safetensors(run.model), "application/octet-stream")).run()
    assert not at.exception
    shown = metric(at, "Test accuracy")
    assert shown == f"{run.history[-1]['val_acc']:.2%}"
    assert not any(i.value == en.STRINGS["cls.eval.first"] for i in at.info)


def test_a_damaged_checkpoint_upload_is_explained_not_crashed():
    import io

    data = C.load("digits")
    run = C.start(C.ClassificationParams(), data, torch.device("cpu"))
    content = torch.load(io.BytesIO(checkpoints.checkpoint(run.model, run.optimizer, [], [], C.settings(
        C.ClassificationParams()))), weights_only=True)
    content.pop("optimizer")
    buffer = io.BytesIO()
    torch.save(content, buffer)
    at = open_page("classification")
    at.file_uploader(key="cls_model_file").set_value(("c.pt", buffer.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    assert any(e.value == en.STRINGS["cls.files.error.corrupt"] for e in at.error)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_file_over_a_limit_is_refused_with_its_size_and_the_limit(lang):
    """The uploaders leave the browser the server's cap, so the page itself names a file's size and the
    limit in the learner's language; a new file's message replaces the previous file's."""
    from nnkit.preprocess import MAX_BYTES as PICTURE_LIMIT

    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("classification", lang)
    picture = at.file_uploader(key="cls_picture")
    assert picture.label == strings["cls.draw.upload"].format(mb=2)
    picture.set_value(("a.png", b"not a picture", "image/png")).run()
    assert [e.value for e in at.error] == [strings["cls.draw.error.not_image"]]
    big = b"\x89PNG\r\n\x1a\n" + bytes(PICTURE_LIMIT)
    at.file_uploader(key="cls_picture").set_value(("photo.png", big, "image/png")).run()
    message = strings["cls.draw.error.too_big"].format(size=len(big), limit=PICTURE_LIMIT)
    assert [e.value for e in at.error] == [message]  # the previous file's message is gone
    assert "2,097,160" in message and "2,097,152" in message

    model = at.file_uploader(key="cls_model_file")
    assert model.label == strings["cls.files.upload"].format(mb=16)
    model.set_value(("big.pt", bytes(checkpoints.MAX_BYTES + 1), "application/octet-stream")).run()
    assert strings["cls.files.error.too_big"].format(size=checkpoints.MAX_BYTES + 1, limit=checkpoints.MAX_BYTES) \
        in [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_zip_bomb_says_its_unpacked_size_with_separators(lang):
    from test_nnkit_classify import zip_bomb

    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("classification", lang)
    at.file_uploader(key="cls_model_file").set_value(("bomb.pt", zip_bomb(50_000_000), "application/zip")).run()
    assert not at.exception
    limit = f"{checkpoints.MAX_BYTES:,}"
    expected = ("This file unpacks to 50,000,000 bytes; the limit is " + limit + " bytes." if lang == "en"
                else "这个文件解压后有 50,000,000 字节;上限是 " + limit + " 字节。")
    assert [e.value for e in at.error] == [expected]


def _png(array) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_empty_picture_says_so_instead_of_guessing(lang):
    import numpy as np

    strings = en.STRINGS if lang == "en" else zh.STRINGS
    data = C.load("digits")
    train, test = C.tensors(data, torch.device("cpu"))
    run = C.start(C.ClassificationParams(), data, torch.device("cpu"))
    run.train(train, test, 1)
    at = open_page("classification", lang)
    at.file_uploader(key="cls_model_file").set_value(
        ("w.safetensors", checkpoints.state_dict_safetensors(run.model), "application/octet-stream")).run()
    one = np.zeros((56, 56), dtype=np.uint8)
    one[11:45, 26:30] = 255  # a vertical stroke: a "1"
    at.file_uploader(key="cls_picture").set_value(("one.png", _png(one), "image/png")).run()
    assert metric(at, strings["cls.draw.guess"]) == "1"
    for name, picture in [("transparent.png", np.zeros((40, 40, 4), dtype=np.uint8)),
                          ("white.png", np.full((40, 40), 255, dtype=np.uint8))]:
        at.file_uploader(key="cls_picture").set_value((name, _png(picture), "image/png")).run()
        assert not at.exception
        assert strings["cls.draw.empty"] in [i.value for i in at.info], name
        assert strings["cls.draw.guess"] not in [m.label for m in at.metric], name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_confusion_cell_shows_its_images_or_says_there_are_none(lang):
    import numpy as np

    from nnkit.classify import evaluate_run

    strings = en.STRINGS if lang == "en" else zh.STRINGS
    data = C.load("digits")
    train, test = C.tensors(data, torch.device("cpu"))
    run = C.start(C.ClassificationParams(), data, torch.device("cpu"))
    run.train(train, test, 1)
    confusion = evaluate_run(run.model, test, 10).confusion
    at = open_page("classification", lang)
    at.file_uploader(key="cls_model_file").set_value(
        ("w.safetensors", checkpoints.state_dict_safetensors(run.model), "application/octet-stream")).run()
    empty = [int(v) for v in np.argwhere(confusion == 0)[0]]
    for true, predicted in ((3, 3), tuple(empty)):
        at.session_state["cls_confusion"] = {"selection": {"cell": [{"true": str(true), "predicted": str(predicted)}]}}
        at.run()
        assert not at.exception
        shown = [m.value for m in at.markdown if m.value.startswith(strings["cls.eval.cell"].split("{")[0])]
        if confusion[true, predicted]:
            n = min(20, int(confusion[true, predicted]))
            assert shown == [strings["cls.eval.cell"].format(true=true, predicted=predicted, n=n)]
        else:
            assert shown == []
            assert strings["cls.eval.cell.none"].format(true=true, predicted=predicted) in [i.value for i in at.info]
