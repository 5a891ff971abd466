"""The Classification page under AppTest: live training, evaluation, model files, the server cap."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import torch

from conftest import open_page
from nnkit import checkpoints
from nnkit.classify import DigitNet
from nnkit.experiments import classification as C
from test_nnkit_checkpoints import DAMAGES, assert_same_optimizer_state, assert_same_weights, blob_of, content_of
from ui.locales import en, zh


@pytest.fixture(autouse=True)
def no_training_left_behind():
    """A training a test leaves running would go on into the next test and take its CPU: stop every
    job still alive (ui.jobs keeps them) and wait for it."""
    from ui import jobs

    yield
    for job in list(jobs._LIVE):
        if job.thread is not None and job.thread.is_alive():  # a finished job keeps its result
            job.stop()
            job.thread.join(timeout=30)


@pytest.fixture
def held(monkeypatch):
    """Holds the training thread at its 10th step, in the middle of the first epoch, until released."""
    from ui.training import TrainingJob

    reached, release = threading.Event(), threading.Event()
    listen = TrainingJob.listen

    def holding(job, event):
        if event["event"] == "step" and job.steps_done == 9:
            reached.set()
            release.wait(timeout=60)
        listen(job, event)

    monkeypatch.setattr(TrainingJob, "listen", holding)
    yield reached, release
    release.set()


@pytest.fixture
def downloads(monkeypatch):
    """{file name: the callable a download button would call when clicked}, over every run."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    files = {}
    add_deferred = MediaFileManager.add_deferred

    def record(manager, data_callable, *args, file_name=None, **kwargs):
        files[file_name] = data_callable
        return add_deferred(manager, data_callable, *args, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return files


def wait_for_the_end(at, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while at.session_state["cls"]["job"].running:
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.3)
        at.run()
    at.run()
    return at


def train_to_the_end(at, timeout: float = 120):
    """Click Train, follow the job until it ends, and check that it ran every epoch asked for."""
    at.button(key="cls_train").click().run()
    job = at.session_state["cls"]["job"]
    assert job is not None, [w.value for w in at.warning]  # it started (not over the server's cap)
    wait_for_the_end(at, timeout)
    assert job.error is None, repr(job.error)
    assert job.result.outcome == "completed", job.result.outcome
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_train_tab_shows_the_training_loop_with_the_chosen_batch_size(lang):
    """The course's idiom: a shuffling DataLoader, epochs outside, batches inside, zero_grad, backward, step."""
    at = open_page("classification", lang, {"batch_size": "128"})
    assert not at.exception, at.exception
    code = next(c.value for c in at.code if "DataLoader" in c.value)
    assert "batch_size=128, shuffle=True" in code and "x.view(-1, 64)" in code
    assert code.index("for epoch") < code.index("for x, y in loader") < code.index("optimizer.zero_grad()") \
        < code.index("loss.backward()") < code.index("optimizer.step()")
    compile(code, "train.py", "exec")  # what the learner copies is Python


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_train_evaluate_and_draw_views(lang):
    at = train_to_the_end(open_page("classification", lang, {"epochs": "3"}))
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    accuracy = float(metric(at, strings["cls.val_acc"]).rstrip("%"))
    assert accuracy > 80
    run = at.session_state["cls"]["run"]
    assert run.epoch == 3 and len(run.steps) == 3 * 36  # 1,151 training images (80% of 1,438) in batches of 32
    # evaluation: per-class bars, the confusion matrix, the confident mistakes' probability bars
    assert len(at.get("vega_lite_chart")) >= 2 + 1 + 4
    assert any(strings["cls.eval.intro"][:20] in m.value for m in at.markdown)
    # continue: the epochs add up and the curves continue
    at.button(key="cls_train").click().run()
    while at.session_state["cls"]["job"].running:
        time.sleep(0.3)
        at.run()
    at.run()
    assert at.session_state["cls"]["run"].epoch == 6
    assert [e["epoch"] for e in at.session_state["cls"]["run"].history] == list(range(6))


def test_stop_in_the_middle_of_an_epoch_finishes_it_and_everything_describes_one_model(held, downloads):
    reached, release = held
    at = open_page("classification", "en", {"epochs": "30", "batch_size": "8"})
    at.button(key="cls_train").click().run()
    assert reached.wait(timeout=60)  # 10 of the first epoch's 144 steps done
    at.button(key="cls_stop").click().run()
    assert at.progress[0].text == "Stopping at the end of epoch 1…"
    assert at.button(key="cls_stop").disabled
    release.set()
    wait_for_the_end(at)
    assert not at.exception, at.exception
    run = at.session_state["cls"]["run"]
    assert at.session_state["cls"]["job"].result.outcome == "stopped"
    assert run.epoch == len(run.history) == 1 and len(run.steps) == 144  # 1,151 training images in batches of 8
    # the Train tab's last validation accuracy and the Evaluate tab's are those of the same weights
    assert [m.value for m in at.metric if m.label == "Validation accuracy"] == [f"{run.history[0]['val_acc']:.2%}"] * 2
    assert at.button(key="cls_train").label == "Continue 30 more epochs"
    assert not at.button(key="cls_reset").disabled
    # the file named after one epoch holds that epoch's weights
    loaded = checkpoints.read_model_file(downloads["digits-1ep-checkpoint.pt"](), "c.pt")
    assert loaded.checkpoint["epoch"] == 1 and len(loaded.checkpoint["steps"]) == 144
    assert all(torch.equal(w, run.model.state_dict()[k].cpu()) for k, w in loaded.state_dict.items())


def test_model_files_are_written_only_when_the_learner_asks(monkeypatch, downloads):
    """The largest network on digits held 13.5 MB of files per session (22.4 MB on MNIST), written on every rerun."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stored = []
    load_and_get_id = MemoryMediaFileStorage.load_and_get_id

    def record(storage, data, mimetype, kind, filename=None):
        stored.append(filename)
        return load_and_get_id(storage, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    largest = {"epochs": "1", "hidden_layers": "3", "hidden_size": "512"}
    at = train_to_the_end(open_page("classification", "en", largest))
    stored.clear()
    at.run()
    assert [name for name in stored if name and name.endswith((".pt", ".safetensors"))] == []
    assert sorted(name for name in downloads if name.startswith("digits")) == [
        "digits-1ep-checkpoint.pt", "digits-1ep-state_dict.pt", "digits-1ep-whole-model.pt", "digits-1ep.safetensors"]
    weights = at.session_state["cls"]["run"].model.state_dict()
    for name in ("digits-1ep-state_dict.pt", "digits-1ep.safetensors", "digits-1ep-checkpoint.pt"):
        loaded = checkpoints.read_model_file(downloads[name](), name)
        assert all(torch.equal(w, weights[k]) for k, w in loaded.state_dict.items()), name
    stale = downloads["digits-1ep-state_dict.pt"]
    train_to_the_end(at)  # a button drawn before this training would name the wrong epoch: it refuses
    with pytest.raises(RuntimeError):
        stale()


def test_training_stops_being_offered_where_a_checkpoint_could_no_longer_hold_it(monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_EPOCHS", 3)
    at = train_to_the_end(open_page("classification", "en", {"epochs": "2"}))
    assert at.session_state["cls"]["run"].epoch == 2
    assert at.button(key="cls_train").disabled  # 2 + 2 epochs would pass the 3 a checkpoint may hold
    assert en.STRINGS["cls.train.limit"].format(epochs=3, steps=checkpoints.MAX_STEPS) in [c.value for c in at.caption]
    assert not at.button(key="cls_reset").disabled


def test_over_the_server_cap_says_busy():
    import threading

    from ui.jobs import max_trainings, slots

    held = [slots().take(block=False, stop=threading.Event()) for _ in range(max_trainings())]
    try:
        at = open_page("classification")
        at.button(key="cls_train").click().run()
        assert any(w.value == en.STRINGS["cls.train.busy"] for w in at.warning)
        assert not at.exception
    finally:
        for ok in held:
            if ok:
                slots().give()


def test_abandoned_training_stops_by_itself(monkeypatch):
    from ui import jobs

    monkeypatch.setattr(jobs, "ABANDONED_AFTER_S", 0.5)
    at = open_page("classification", "en", {"epochs": "30", "batch_size": "8"})
    at.button(key="cls_train").click().run()
    job = at.session_state["cls"]["job"]
    assert job.finished.wait(timeout=60)  # nobody polls: as if the tab were closed
    run = at.session_state["cls"]["run"]
    assert job.result.outcome == "stopped" and 1 <= run.epoch < 30
    assert len(run.steps) == run.epoch * 144  # it stops where an epoch ends, like the Stop button


def _two_epoch_checkpoint() -> bytes:
    """A checkpoint of a 64-unit SGD model after 2 epochs, written as the page's download writes it."""
    data = C.load("digits")
    p = C.ClassificationParams(hidden_size=64, optimizer="sgd", lr=0.1)
    train, val, _ = C.tensors(data, p, torch.device("cpu"))
    run = C.start(p, data, torch.device("cpu"))
    run.train(train, val, 2)
    return checkpoints.checkpoint(run.model, run.optimizer, run.history, run.steps, C.settings(p))


def test_a_checkpoint_upload_restores_settings_and_resumes():
    at = open_page("classification")
    at.file_uploader(key="cls_model_file").set_value(("run-checkpoint.pt", _two_epoch_checkpoint(),
                                                      "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert at.slider(key="classification.hidden_size").value == 64 and at.selectbox(key="classification.optimizer").value == "sgd"
    assert at.session_state["cls"]["run"].epoch == 2
    assert any("checkpoint" in s.value and "2" in s.value for s in at.success)
    at.button(key="cls_train").click().run()
    while at.session_state["cls"]["job"].running:
        time.sleep(0.3)
        at.run()
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
    assert at.slider(key="classification.hidden_layers").value == (0 if end == "lo" else 3)


def test_an_uploaded_state_dict_can_be_evaluated_and_drawn_with():
    data = C.load("digits")
    p = C.ClassificationParams()
    train, val, _ = C.tensors(data, p, torch.device("cpu"))
    run = C.start(p, data, torch.device("cpu"))
    run.train(train, val, 3)
    at = open_page("classification")
    at.file_uploader(key="cls_model_file").set_value(
        ("w.safetensors", checkpoints.state_dict_safetensors(run.model), "application/octet-stream")).run()
    assert not at.exception
    shown = metric(at, "Validation accuracy")
    assert shown == f"{run.history[-1]['val_acc']:.2%}"
    assert not any(i.value == en.STRINGS["cls.eval.first"] for i in at.info)


@pytest.mark.parametrize("case", ["history without train_acc (a list, as format 1 wrote it)",
                                  "settings with text for the learning rate", "optimizer state of the wrong shape",
                                  "10,001 epochs", "a checkpoint of format 1",
                                  "a checkpoint of format 2, from before the validation split"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_damaged_checkpoint_upload_is_explained_not_crashed(case, lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    damage, code = DAMAGES[case]
    p = C.ClassificationParams(hidden_size=32)
    run = C.start(p, C.load("digits"), "cpu")
    run.train(*C.tensors(C.load("digits"), p, "cpu")[:2], 1)
    content = content_of(checkpoints.checkpoint(run.model, run.optimizer, run.history, run.steps, C.settings(p)))
    damage(content)
    at = open_page("classification", lang)
    at.file_uploader(key="cls_model_file").set_value(("c.pt", blob_of(content), "application/octet-stream")).run()
    assert not at.exception, at.exception
    start = strings[f"cls.files.error.{code}"].split("{")[0]
    assert [e.value for e in at.error if e.value.startswith(start)], [e.value for e in at.error]
    assert at.session_state["cls"]["run"].epoch == 0 and at.slider(key="classification.hidden_size").value == 128


def test_resuming_through_the_page_equals_an_uninterrupted_run():
    """Adam, 2 epochs saved, uploaded, 3 more trained by the page: the weights and the optimizer's
    state of a 5-epoch run (a page that forgot to load either one fails here)."""
    data, cpu = C.load("digits"), torch.device("cpu")
    p = C.ClassificationParams(hidden_size=32, optimizer="adam", lr=0.01)
    straight, first = C.start(p, data, cpu), C.start(p, data, cpu)
    straight.train(*C.tensors(data, p, cpu)[:2], 5)
    first.train(*C.tensors(data, p, cpu)[:2], 2)
    blob = checkpoints.checkpoint(first.model, first.optimizer, first.history, first.steps, C.settings(p))
    at = open_page("classification", "en", {"epochs": "3"})
    at.file_uploader(key="cls_model_file").set_value(("run-checkpoint.pt", blob, "application/octet-stream")).run()
    assert at.slider(key="classification.hidden_size").value == 32 and at.session_state["cls"]["run"].epoch == 2
    train_to_the_end(at)
    run = at.session_state["cls"]["run"]
    assert run.epoch == 5 and not at.exception
    assert_same_weights(straight.model, run.model)
    assert_same_optimizer_state(straight.optimizer, run.optimizer)


@pytest.mark.parametrize("lang, choice", [("en", "back"), ("zh", "new")])
def test_a_setting_changed_while_training_keeps_the_trained_model_and_says_so(held, lang, choice):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    reached, release = held
    at = open_page("classification", lang, {"epochs": "1"})
    at.button(key="cls_train").click().run()
    assert reached.wait(timeout=60)
    at.slider(key="classification.hidden_size").set_value(256).run()  # while it trains
    release.set()
    wait_for_the_end(at)
    assert not at.exception, at.exception
    state = at.session_state["cls"]
    assert state["run"].epoch == 1 and state["params"].hidden_size == 128  # kept, with its own settings
    notice = strings["cls.outdated"].format(settings=strings["param.cls.hidden_size"])
    assert [w.value for w in at.warning] == [notice]
    assert at.button(key="cls_train").disabled
    assert metric(at, strings["cls.val_acc"]) == f"{state['run'].history[0]['val_acc']:.2%}"  # Evaluate: this model
    at.button(key=f"cls_outdated_{choice}").click().run()
    assert not at.warning and not at.button(key="cls_train").disabled
    if choice == "back":
        assert at.slider(key="classification.hidden_size").value == 128 and at.session_state["cls"]["run"] is state["run"]
        at.slider(key="classification.hidden_size").set_value(64).run()  # a change while nothing trains: a new model, as always
        assert at.session_state["cls"]["run"].epoch == 0 and not at.warning
    else:
        assert at.slider(key="classification.hidden_size").value == 256 and at.session_state["cls"]["run"].epoch == 0


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
    train, val, _ = C.tensors(data, C.ClassificationParams(), torch.device("cpu"))
    run = C.start(C.ClassificationParams(), data, torch.device("cpu"))
    run.train(train, val, 1)
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
    train, val, _ = C.tensors(data, C.ClassificationParams(), torch.device("cpu"))
    run = C.start(C.ClassificationParams(), data, torch.device("cpu"))
    run.train(train, val, 1)
    confusion = evaluate_run(run.model, val, 10).confusion
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


def test_layer_names_from_an_uploaded_file_are_shown_as_text():
    from safetensors.torch import save

    hostile = "![x](https://evil.example/pixel.png)"
    at = open_page("classification")
    blob = save({hostile: torch.zeros(2)})  # a state_dict whose layer name is Markdown for a remote image
    at.file_uploader(key="cls_model_file").set_value(("w.safetensors", blob, "application/octet-stream")).run()
    assert not at.exception, at.exception
    shown = [e.value for e in at.error if "evil.example" in e.value]
    assert shown, [e.value for e in at.error]
    outside_code = re.sub(r"(`+).*?\1", "", shown[0])  # what Markdown would interpret
    assert "evil.example" not in outside_code and "](" not in outside_code, shown[0]


# --- validation, the test set once, and what the Train tab measures ------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_test_set_is_scored_only_when_asked_and_shown_apart(lang):
    from nnkit.train import evaluate

    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = train_to_the_end(open_page("classification", lang, {"epochs": "2"}))
    assert strings["cls.test_acc"] not in [m.label for m in at.metric]  # never shown unasked
    assert any(strings["cls.test.why"] == m.value for m in at.markdown)
    at.button(key="cls_score_test").click().run()
    run = at.session_state["cls"]["run"]
    test = C.tensors(C.load("digits"), at.session_state["cls"]["params"], "cpu")[2]
    expected = evaluate(run.model, torch.nn.CrossEntropyLoss(), test)["acc"]
    assert metric(at, strings["cls.test_acc"]) == f"{expected:.2%}"
    assert metric(at, strings["cls.val_acc"]) == f"{run.history[-1]['val_acc']:.2%}"  # the validation number stays
    assert strings["cls.test.when"].format(epoch=2) in [c.value for c in at.caption]
    assert strings["cls.test.since"] not in [c.value for c in at.caption]
    at.button(key="cls_train").click().run()
    wait_for_the_end(at)
    assert run.epoch == 4 and strings["cls.test.since"] in [c.value for c in at.caption]
    assert metric(at, strings["cls.test_acc"]) == f"{expected:.2%}"  # the score of the weights it was taken with


def test_after_epoch_one_the_train_tab_shows_training_accuracy_measured_like_validation():
    """Before, the page showed the running average (79% training against 89% test after epoch 1)."""
    from nnkit.train import evaluate

    at = train_to_the_end(open_page("classification", "en", {"epochs": "1"}))
    state = at.session_state["cls"]
    train, val, _ = C.tensors(C.load("digits"), state["params"], "cpu")
    on_train = evaluate(state["run"].model, torch.nn.CrossEntropyLoss(), train)
    assert metric(at, "Training accuracy") == f"{on_train['acc']:.2%}"
    assert metric(at, "Training loss") == f"{on_train['loss']:.4f}"
    running = state["run"].history[0]["running_acc"]
    assert running < on_train["acc"] - 0.1
    assert any(f"{running:.2%}" in c.value and "eval mode" in c.value for c in at.caption)


def test_the_step_charts_put_loss_and_accuracy_on_their_own_axes_with_a_trend():
    at = train_to_the_end(open_page("classification", "en", {"epochs": "2"}))
    steps = at.session_state["cls"]["run"].steps
    import pyarrow as pa

    charts = [(json.loads(c.proto.spec), c.proto.data) for c in at.get("vega_lite_chart")]  # data: Arrow bytes
    per_step = [(s, d) for s, d in charts if "layer" in s and s["layer"][0]["encoding"]["x"]["title"] == "step"]
    assert [s["layer"][0]["encoding"]["y"]["title"] for s, _ in per_step] == [en.STRINGS["cls.curve.step_loss"],
                                                                             en.STRINGS["cls.curve.step_acc"]]
    window = max(5, len(steps) // 50)
    for (spec, data), k in zip(per_step, (0, 1)):
        raw, trend = spec["layer"]
        assert raw["mark"]["opacity"] < 1 and "opacity" not in trend["mark"]
        rows = pa.ipc.open_stream(data.data).read_all().to_pydict()
        assert rows["raw"] == pytest.approx([s[k] for s in steps])
        assert rows["smooth"][40] == pytest.approx(sum(s[k] for s in steps[41 - window:41]) / window)
        trend = rows["smooth"]
        assert (trend[-1] < trend[window]) if k == 0 else (trend[-1] > trend[window])  # loss falls, accuracy rises


def test_an_epoch_ending_while_the_page_draws_is_not_counted_before_its_numbers_are_shown(monkeypatch):
    """The live view reads the history the training thread appends to. Read twice, an epoch ending in
    between (while the step charts were drawn: long on a loaded server) showed "epoch 10" with the
    numbers of epoch 9 (the load test's pages with a lower loss than the same training alone)."""
    from ui import classifier
    from ui.training import TrainingJob

    reached, release = threading.Event(), threading.Event()
    listen, draw = TrainingJob.listen, classifier.step_charts

    def holding(job, event):  # the thread waits at the last step of epoch 2, before epoch 2 is recorded
        if event["event"] == "step" and job.steps_done == 2 * 36 - 1:
            reached.set()
            release.wait(timeout=60)
        listen(job, event)

    def slow_charts(steps):  # while the charts are drawn, epoch 2 ends
        run = classifier.st.session_state["cls"]["run"]
        if reached.is_set() and not release.is_set():
            release.set()
            deadline = time.monotonic() + 60
            while len(run.history) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(run.history) == 2
        draw(steps)

    monkeypatch.setattr(TrainingJob, "listen", holding)
    monkeypatch.setattr(classifier, "step_charts", slow_charts)
    at = open_page("classification", "en", {"epochs": "2"})
    at.button(key="cls_train").click().run()
    assert reached.wait(timeout=60)
    at.run()
    assert release.is_set()  # the run above drew the page while epoch 2 ended
    history = at.session_state["cls"]["run"].history
    shown = int(metric(at, "epoch"))
    assert (shown, metric(at, "Training loss"), metric(at, "Validation accuracy")) == (
        shown, f"{history[shown - 1]['train_loss']:.4f}", f"{history[shown - 1]['val_acc']:.2%}")
    assert at.progress[0].text.startswith(f"Training: epoch {shown} done")
    wait_for_the_end(at)
    assert (metric(at, "epoch"), metric(at, "Training loss")) == ("2", f"{history[1]['train_loss']:.4f}")


def test_softmax_regression_weights_are_shown_as_one_image_per_class():
    at = train_to_the_end(open_page("classification", "en", {"epochs": "1", "hidden_layers": "0"}))
    assert any(s.value == en.STRINGS["cls.eval.weights"] for s in at.subheader)
    assert en.STRINGS["cls.eval.weights.help"] in [c.value for c in at.caption]
    at = open_page("classification", "en", {"epochs": "1"})
    train_to_the_end(at)
    assert not any(s.value == en.STRINGS["cls.eval.weights"] for s in at.subheader)  # an MLP: no such view


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_file_for_another_network_says_which_settings_fit_it(lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    cases = [(DigitNet(784, (256, 256), 10), strings["cls.files.fits.layers"].format(layers=2, units=256)),
             (DigitNet(64, (), 10), strings["cls.files.fits.none"]),
             (DigitNet(64, (32,), 10, "tanh"), None)]  # the default settings with other widths and activation
    for model, hidden in cases:
        at = open_page("classification", lang, {"hidden_layers": "2"})
        blob = checkpoints.state_dict_pt(model)
        at.file_uploader(key="cls_model_file").set_value(("m.pt", blob, "application/octet-stream")).run()
        assert not at.exception
        inputs = model.input_size
        if hidden is None:
            hidden = strings["cls.files.fits.layers.one"].format(units=32)
        assert strings["cls.files.fits"].format(hidden=hidden, inputs=inputs, classes=10) in [i.value for i in at.info]


def test_zh_says_batch_one_way_and_never_reads_as_approve():
    batch = {k: v for k, v in zh.STRINGS.items() if "批" in v}
    assert batch and all("批量" in v for v in batch.values()), batch
    assert not [k for k, v in zh.STRINGS.items() if "批准" in v or "批大小" in v or "批次" in v]


def _cls_runs(at) -> list:
    return at.session_state["classification.runs"].runs


def _runs_table(at):
    return next(d.value for d in at.dataframe if "Colour" in d.value.columns)


def test_each_models_training_is_one_run_and_the_cli_records_the_same(tmp_path):
    from nnkit.__main__ import main
    from nnkit.runs import RunRecord

    at = open_page("classification", query={"epochs": "2"})
    assert _cls_runs(at) == []  # nothing trained yet
    train_to_the_end(at)
    train_to_the_end(at)  # two more epochs on the same model: the same run, grown
    [run] = _cls_runs(at)
    assert (run.label, run.record.summary["epochs"], len(run.record.history)) == ("#1", 4, 4)
    assert run.record.history[-1]["val_acc"] == pytest.approx(at.session_state["cls"]["run"].history[-1]["val_acc"])
    at.number_input(key="classification.lr").set_value(0.003).run()
    train_to_the_end(at)
    assert [(r.label, r.record.settings["lr"], r.record.summary["epochs"]) for r in _cls_runs(at)] == \
        [("#1", "0.01", 4), ("#2", "0.003", 2)]
    table = _runs_table(at)
    assert list(table["Learning rate"]) == ["0.01", "0.003"]
    assert not any("test" in c.lower() for c in table.columns)  # runs are compared on validation
    assert list(table["Validation accuracy"]) == [f"{r.record.summary['val_accuracy']:.4g}" for r in _cls_runs(at)]
    # the CLI trains the same model the same way: the same record
    path = tmp_path / "cli.json"
    assert main(["run", "classification", "--set", "epochs=2", "--set", "lr=0.003", "--save-run", str(path)]) == 0
    cli = RunRecord.from_json(path.read_text(encoding="utf-8"))
    page = _cls_runs(at)[1].record
    assert cli.settings == page.settings
    assert [row["val_acc"] for row in cli.history] == pytest.approx([row["val_acc"] for row in page.history], abs=1e-6)


def test_a_stopped_and_a_resumed_model_are_runs_too(held):
    at = open_page("classification")
    at.file_uploader(key="cls_model_file").set_value(("run-checkpoint.pt", _two_epoch_checkpoint(),
                                                      "application/octet-stream")).run()
    [resumed] = _cls_runs(at)
    assert resumed.record.tags == ["resumed"] and resumed.record.summary["epochs"] == 2
    assert resumed.record.settings["hidden_size"] == "64"
    reached, release = held
    at.button(key="cls_train").click().run()
    assert reached.wait(timeout=60)
    at.button(key="cls_stop").click().run()
    release.set()
    wait_for_the_end(at)
    [stopped] = _cls_runs(at)  # still the same model, so the same run: stopped after its third epoch
    assert (stopped.label, stopped.record.outcome, stopped.record.summary["epochs"]) == ("#1", "stopped", 3)
    assert stopped.record.tags == ["resumed"]
    assert list(_runs_table(at)["Outcome"]) == ["stopped · resumed"]


def test_the_image_grid_shows_each_image_pixel_for_pixel_and_the_data_tab_draws_thirty():
    """The grid's pictures are encoded once per process (the data tab draws the same digits on every
    run): each decodes to its image enlarged, its pixels neither smoothed nor rescaled."""
    import io

    import numpy as np
    from PIL import Image

    from ui.classifier import _pngs, zoom

    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    decoded = [np.asarray(Image.open(io.BytesIO(png))) for png in _pngs(images.tobytes(), images.shape)]
    assert all(np.array_equal(d, zoom(i)) for d, i in zip(decoded, images))
    at = open_page("classification")
    assert not at.exception, at.exception
    assert len(at.get("image")) == 20 + 10  # two samples of each digit, and each digit's mean
