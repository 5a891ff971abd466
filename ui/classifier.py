"""The Classification page's views: data, live training, evaluation, drawing, model files, losses.

The page (pages/classification.py) lays these out in tabs. The model being trained lives in the
session (`st.session_state["cls"]`), training runs in a background `TrainingJob`, and the dataset
is loaded once per server process and shared read-only by every session.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from nnkit import checkpoints
from nnkit.classify import confident_mistakes, evaluate_run, predict
from nnkit.datasets.images import DatasetError, ImageSet, load
from nnkit.device import pick_device
from nnkit.experiments import classification as C
from nnkit.experiments.base import parse, specs
from ui import charts, urlstate
from ui.i18n import t
from ui.page import remembered
from ui.training import TrainingJob

STATE = "cls"  # {"key": settings the model depends on, "run": TrainingRun, "job": TrainingJob | None}


@st.cache_resource(show_spinner=False, max_entries=3)
def dataset(name: str) -> ImageSet:
    """Loaded once per server process; every session reads the same tensors and never writes them."""
    return load(name)


@st.cache_resource(show_spinner=False, max_entries=3)
def device_tensors(name: str):
    """The float copies on the training device, shared as well: training only reads them."""
    return C.tensors(dataset(name), pick_device().device)


def choose_dataset(p: C.ClassificationParams) -> tuple[C.ClassificationParams, ImageSet]:
    """The chosen dataset, or the bundled digits with a one-line note when it is not prepared here."""
    try:
        return p, dataset(p.dataset)
    except DatasetError as err:
        st.info(t(f"cls.data.{err.code}", **err.details), icon=":material/info:")
        return replace(p, dataset="digits"), dataset("digits")


def model_key(p: C.ClassificationParams) -> tuple:
    return (p.dataset, p.hidden_layers, p.hidden_size, p.activation, p.optimizer, p.lr, p.batch_size, p.seed)


def current(p: C.ClassificationParams, data: ImageSet):
    """The session's training run for these settings; settings that change the model start a new one."""
    key = model_key(p)
    state = st.session_state.get(STATE)
    if state is None or (state["key"] != key and not (state["job"] and state["job"].running)):
        state = {"key": key, "run": C.start(p, data, pick_device().device), "job": None}
        st.session_state[STATE] = state
    return state


# --- data -------------------------------------------------------------------------------------

def _zoom(image: np.ndarray, size: int = 56) -> np.ndarray:
    """Nearest-neighbour enlargement, so an 8x8 digit shows its pixels instead of a blur."""
    k = max(1, size // image.shape[0])
    return np.kron(image, np.ones((k, k), dtype=image.dtype))


def image_grid(images: list[np.ndarray], captions: list[str], columns: int = 10) -> None:
    for start in range(0, len(images), columns):
        for col, image, caption in zip(st.columns(columns), images[start:start + columns],
                                       captions[start:start + columns]):
            col.image(_zoom(image), caption=caption, clamp=True)


def data_view(data: ImageSet) -> None:
    st.caption(t("cls.data.source", source=t(f"cls.source.{data.name}"), train=len(data.train_y), test=len(data.test_y),
                  h=data.shape[0], w=data.shape[1]))
    x, y = data.train_x.numpy(), data.train_y.numpy()
    st.subheader(t("cls.data.samples"))
    picks = [int(np.flatnonzero(y == c)[i]) for i in range(2) for c in range(data.n_classes)]
    image_grid([x[i] for i in picks], [data.classes[y[i]] for i in picks])
    left, right = st.columns(2)
    counts = np.bincount(y, minlength=data.n_classes)
    left.subheader(t("cls.data.counts"))
    left.vega_lite_chart(spec=charts.grouped_bars(
        [{"class": data.classes[c], "count": int(n), "set": t("cls.train")} for c, n in enumerate(counts)],
        "class", "count", "set", t("cls.count")), width="stretch")
    right.subheader(t("cls.data.mean"))
    with right:
        image_grid([x[y == c].mean(axis=0).astype(np.uint8) for c in range(data.n_classes)], list(data.classes),
                   columns=5)
    st.caption(t("cls.data.mean.help"))


# --- training ---------------------------------------------------------------------------------

def train_controls(p: C.ClassificationParams, data: ImageSet, state: dict) -> None:
    run, job = state["run"], state["job"]
    busy = job is not None and job.running
    a, b, c = st.columns(3)
    key = "cls.train.start" if run.epoch == 0 else "cls.train.more"
    label = t(key + (".one" if p.epochs == 1 else ""), epochs=p.epochs)  # "1 epoch", "5 epochs"
    if a.button(label, type="primary", disabled=busy, key="cls_train", icon=":material/play_arrow:"):
        train, test = device_tensors(data.name)
        steps = p.epochs * -(-len(train[1]) // run.batch_size)
        job = TrainingJob(lambda listen: run.train(train, test, p.epochs, listen), steps)
        if job.start():
            state["job"], state["shown_finished"] = job, False
            st.rerun()  # redraw the controls as busy (Stop enabled); the fragment then follows the job
        else:
            st.warning(t("cls.train.busy"))
    if b.button(t("cls.train.stop"), disabled=not busy, key="cls_stop", icon=":material/stop:"):
        job.stop()
    if c.button(t("cls.train.reset"), disabled=busy or run.epoch == 0, key="cls_reset", icon=":material/restart_alt:"):
        st.session_state.pop(STATE)
        st.rerun()
    live = state["job"] is not None and state["job"].running
    st.fragment(run_every=0.5 if live else None)(_progress)(state)


def _progress(state: dict) -> None:
    run, job = state["run"], state["job"]
    if job is not None:
        job.poll()
        if job.running:
            st.progress(job.progress, text=t("cls.train.progress", epoch=run.epoch, steps=job.steps_done))
        elif job.error is not None:
            st.error(t("cls.train.error", error=f"{type(job.error).__name__}: {job.error}"))
        elif not job.stop_requested.is_set() and job.result is not None and job.result.outcome == "diverged":
            st.error(t("cls.train.diverged"))
        if not job.running and not state.get("shown_finished"):
            state["shown_finished"] = True
            st.rerun()  # the whole page once: evaluation and files now describe the new weights
    history, steps = list(run.history), list(run.steps)
    if not steps:
        st.caption(t("cls.train.none"))
        return
    stride = max(1, len(steps) // 300)
    step_rows = [{"step": i + 1, "value": v, "curve": t(f"cls.curve.step_{k}")}
                 for i in range(0, len(steps), stride) for k, v in zip(("loss", "acc"), steps[i])]
    st.vega_lite_chart(spec=charts.live_lines(step_rows, "step", "value", "curve", t("cls.step"), ""), width="stretch")
    if not history:
        return
    last = history[-1]
    m = st.columns(4)
    m[0].metric(t("cls.epoch"), run.epoch)
    m[1].metric(t("cls.train_loss"), f"{last['train_loss']:.4f}")
    m[2].metric(t("cls.test_acc"), f"{last['val_acc']:.2%}")
    m[3].metric(t("cls.train_acc"), f"{last['train_acc']:.2%}")
    rows = [{"epoch": e["epoch"] + 1, "value": e[k], "curve": t(f"cls.curve.{k}")}
            for e in history for k in ("train_loss", "val_loss")]
    accs = [{"epoch": e["epoch"] + 1, "value": e[k], "curve": t(f"cls.curve.{k}")}
            for e in history for k in ("train_acc", "val_acc")]
    left, right = st.columns(2)
    left.vega_lite_chart(spec=charts.live_lines(rows, "epoch", "value", "curve", t("cls.epoch"), t("cls.loss")),
                         width="stretch")
    right.vega_lite_chart(spec=charts.live_lines(accs, "epoch", "value", "curve", t("cls.epoch"),
                                                 t("cls.accuracy")), width="stretch")


# --- evaluation -------------------------------------------------------------------------------

def evaluation_view(data: ImageSet, state: dict) -> None:
    run = state["run"]
    if state["job"] and state["job"].running:
        st.info(t("cls.busy"))
        return
    if not run.has_weights:
        st.info(t("cls.eval.first"))
        return
    test = device_tensors(data.name)[1]
    result = remembered("cls_eval", (run.uid, len(run.steps)), lambda: evaluate_run(run.model, test, data.n_classes))
    st.markdown(t("cls.eval.intro"))
    st.metric(t("cls.test_acc"), f"{result.accuracy:.2%}")
    left, right = st.columns(2)
    left.subheader(t("cls.eval.per_class"))
    left.vega_lite_chart(spec=charts.bars(list(data.classes), [float(v) for v in result.per_class],
                                          t("cls.accuracy")), width="stretch")
    right.subheader(t("cls.eval.confusion"))
    picked = right.vega_lite_chart(
        spec=charts.confusion(tuple(map(tuple, result.confusion.tolist())), tuple(data.classes),
                              t("cls.true"), t("cls.predicted")),
        on_select="rerun", selection_mode="cell", key="cls_confusion")
    images, labels = data.test_x.numpy(), data.test_y.numpy()
    cells = (picked or {}).get("selection", {}).get("cell") or []
    if cells:
        true, predicted = data.classes.index(cells[0]["true"]), data.classes.index(cells[0]["predicted"])
        chosen = np.flatnonzero((labels == true) & (result.predicted == predicted))[:20]
        names = {"true": data.classes[true], "predicted": data.classes[predicted]}
        if len(chosen):
            st.markdown(t("cls.eval.cell", **names, n=len(chosen)))
            image_grid([images[i] for i in chosen], [f"#{i}" for i in chosen])
        else:
            st.info(t("cls.eval.cell.none", **names))
    else:
        right.caption(t("cls.eval.click"))
    st.subheader(t("cls.eval.mistakes"))
    for i in confident_mistakes(result, labels, k=4):
        a, b = st.columns([1, 4])
        a.image(_zoom(images[i], 84), clamp=True,
                caption=t("cls.eval.mistake", true=data.classes[labels[i]], predicted=data.classes[result.predicted[i]]))
        b.vega_lite_chart(spec=charts.bars(list(data.classes), [float(v) for v in result.probabilities[i]],
                                           t("cls.probability")), width="stretch")


# --- drawing ----------------------------------------------------------------------------------

def drawing_view(data: ImageSet, state: dict) -> None:
    from nnkit.preprocess import MAX_BYTES, PictureError, read_picture, to_digits8, to_mnist
    from ui.canvas import draw_digit

    run = state["run"]
    busy = state["job"] is not None and state["job"].running
    st.markdown(t("cls.draw.intro", h=data.shape[0], w=data.shape[1]))
    if busy:  # never read weights while the worker thread is changing them
        st.info(t("cls.busy"))
    elif not run.has_weights:
        st.info(t("cls.eval.first"))
    left, right = st.columns(2)
    with left:
        drawing = draw_digit("cls_canvas")
        # No max_upload_size: over a browser-side cap Streamlit shows only a red icon (English tooltip)
        # and keeps the previous file; up to the server's cap, read_picture names the size and the limit.
        upload = st.file_uploader(t("cls.draw.upload", mb=MAX_BYTES // 2**20),
                                  type=["png", "jpg", "jpeg", "gif", "bmp", "webp"], key="cls_picture")
    picture = drawing
    if upload is not None:
        try:
            picture = read_picture(upload.getvalue())
        except PictureError as err:
            left.error(t(f"cls.draw.error.{err.code}", **err.details))
    if picture is None or not run.has_weights or busy:
        return
    image = to_mnist(picture) if data.shape == (28, 28) else to_digits8(picture)
    if not image.any():  # blank, one colour or fully transparent: there is no digit to guess
        right.info(t("cls.draw.empty"))
        return
    probabilities = predict(run.model, image)
    with right:
        st.image(_zoom(image, 112), caption=t("cls.draw.seen"), clamp=True)
        st.metric(t("cls.draw.guess"), data.classes[int(np.argmax(probabilities))])
        st.caption(t("cls.draw.confidence", p=f"{float(np.max(probabilities)):.1%}"))
        st.vega_lite_chart(spec=charts.bars(list(data.classes), [float(v) for v in probabilities],
                                            t("cls.probability")), width="stretch")


# --- model files ------------------------------------------------------------------------------

def files_view(p: C.ClassificationParams, data: ImageSet, state: dict) -> None:
    run = state["run"]
    st.markdown(t("cls.files.intro"))
    busy = state["job"] is not None and state["job"].running
    if run.has_weights and not busy:
        name = f"{p.dataset}-{run.epoch}ep"
        a, b, c, d = st.columns(4)
        a.download_button(t("cls.files.state_pt"), checkpoints.state_dict_pt(run.model), f"{name}-state_dict.pt",
                          key="dl_state_pt")
        b.download_button(t("cls.files.state_st"), checkpoints.state_dict_safetensors(run.model),
                          f"{name}.safetensors", key="dl_state_st")
        c.download_button(t("cls.files.whole"), checkpoints.whole_model(run.model), f"{name}-whole-model.pt",
                          key="dl_whole")
        d.download_button(t("cls.files.checkpoint"), checkpoints.checkpoint(run.model, run.optimizer, run.history,
                                                                          run.steps, C.settings(p)),
                          f"{name}-checkpoint.pt", key="dl_checkpoint")
    st.markdown(t("cls.files.explain"))
    # No max_upload_size (see drawing_view): read_model_file names the file's size and the limit.
    upload = st.file_uploader(t("cls.files.upload", mb=checkpoints.MAX_BYTES // 2**20),
                              type=["pt", "pth", "safetensors"], key="cls_model_file")
    if upload is None or busy or st.session_state.get("cls_loaded") == upload.file_id:
        return
    try:
        loaded = checkpoints.read_model_file(upload.getvalue(), upload.name)
        if loaded.kind == "checkpoint":
            restored, errors = parse(C.ClassificationParams, loaded.checkpoint["settings"], strict=False)
            if errors:
                raise checkpoints.ModelFileError("corrupt", "; ".join(errors.values()))
            run = C.start(restored, dataset(restored.dataset), pick_device().device)
            checkpoints.load_weights(run.model, loaded.state_dict)
            try:
                run.optimizer.load_state_dict(loaded.checkpoint["optimizer"])
            except (ValueError, KeyError, TypeError, RuntimeError):
                raise checkpoints.ModelFileError("corrupt", "the optimizer state does not fit") from None
            run.loaded = True
            run.history[:] = loaded.checkpoint["history"]
            run.steps[:] = [tuple(s) for s in loaded.checkpoint.get("steps", [])]
            # the page's settings become the checkpoint's, so the model and the widgets agree
            urlstate.request({k: v for k, v in C.settings(restored).items() if k in specs(C.ClassificationParams)})
            key = model_key(restored)
        else:
            run = C.start(p, data, pick_device().device)
            checkpoints.load_weights(run.model, loaded.state_dict)
            run.loaded = True
            key = state["key"]
    except checkpoints.ModelFileError as err:
        st.error(t(f"cls.files.error.{err.code}", **err.details))
        return
    except DatasetError as err:  # a checkpoint of a dataset this server has not prepared
        st.error(t("cls.files.error.missing" if err.code == "missing" else "cls.files.error.corrupt"))
        return
    st.session_state[STATE] = {"key": key, "run": run, "job": None}
    st.session_state["cls_loaded"] = upload.file_id
    st.session_state["cls_loaded_message"] = t("cls.files.loaded", kind=t(f"cls.files.kind.{loaded.kind}"),
                                               epoch=run.epoch)
    st.rerun()


# --- losses -----------------------------------------------------------------------------------

def losses_view(p: C.ClassificationParams) -> None:
    st.markdown(t("cls.losses.intro"))
    digits = dataset("digits")
    if st.toggle(t("cls.losses.run"), key="cls_losses_on"):
        curves = remembered("cls_losses", (p.hidden_layers, p.hidden_size, p.activation, p.batch_size, p.seed),
                            lambda: C.compare_losses(p, digits))
        rows = [{"epoch": i + 1, "accuracy": v, "loss": t(f"cls.losses.{name}")}
                for name, values in curves.items() for i, v in enumerate(values)]
        st.vega_lite_chart(spec=charts.lines(rows, "epoch", "accuracy", "loss", t("cls.epoch"), t("cls.test_acc")),
                           width="stretch")
    st.markdown(t("cls.losses.why"))
    st.subheader(t("cls.binary"))
    st.markdown(t("cls.binary.intro"))
    toy = remembered("cls_binary", p.seed, lambda: C.binary_toy(p))
    left, right = st.columns([1, 1])
    left.vega_lite_chart(spec=charts.regions(toy["region"], toy["points"], t("cls.binary.chart")), width="content")
    right.metric(t("cls.train_acc"), f"{toy['accuracy']:.1%}")
    right.markdown(t("cls.binary.explain"))
