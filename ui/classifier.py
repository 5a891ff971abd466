"""The Classification page's model and views: data, live training, evaluation, drawing, losses.

The page (pages/classification.py) lays these out in tabs, with the model files (ui/model_files.py).
The model being trained lives in the session (`st.session_state["cls"]`), training runs in a
background `TrainingJob`, and the dataset is loaded once per server process and shared read-only
by every session. Everything about the model (curves, evaluation, drawing, file names and
contents) describes the same weights: a stop takes effect at the end of an epoch, and the model
keeps the settings it was built with.
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
from ui import charts, params
from ui.i18n import t
from ui.shared import shared
from ui.page import remembered
from ui.params import text_key
from ui.training import TrainingJob

# {"key": model_key(params), "params": the settings the model was built with, "run": TrainingRun,
#  "job": TrainingJob | None, "outdated": the settings changed while it trained}
STATE = "cls"
MODEL_FIELDS = ("dataset", "hidden_layers", "hidden_size", "activation", "optimizer", "lr", "batch_size", "seed")


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
    return tuple(getattr(p, name) for name in MODEL_FIELDS)


def is_busy(state: dict) -> bool:
    """A training job runs: nothing may read the weights it is changing."""
    return state["job"] is not None and state["job"].running


def keep(p: C.ClassificationParams, run) -> dict:
    """Make `run`, built with settings `p`, the session's model."""
    state = {"key": model_key(p), "params": p, "run": run, "job": None}
    st.session_state[STATE] = state
    return state


def current(p: C.ClassificationParams, data: ImageSet) -> dict:
    """The session's model. Settings that change the model start a new one, except those changed
    while it trained: that model is kept (with the settings it was built with) until the learner
    chooses, in `outdated_notice`, between a new model and the model's own settings."""
    state = st.session_state.get(STATE)
    if state is not None and state["key"] != model_key(p):
        if state["job"] is not None and not state.get("shown_finished"):  # training, or done but not yet shown
            state["outdated"] = True
        elif not state.get("outdated"):
            state = None
    elif state is not None:
        state["outdated"] = False
    return state if state is not None else keep(p, C.start(p, data, pick_device().device))


def use_settings_of(model: C.ClassificationParams) -> None:
    """Put the model's settings into the widgets (at the start of the next run), so the two agree."""
    params.request(C.ClassificationParams, {name: getattr(model, name) for name in MODEL_FIELDS})


def outdated_notice(p: C.ClassificationParams, state: dict) -> None:
    """Says that the model was built with other settings than the widgets show, and offers the ways out."""
    box = st.container()  # always there: the tabs below keep their place, and the learner their tab
    model = state["params"]
    changed = [name for name in MODEL_FIELDS if getattr(p, name) != getattr(model, name)]
    if not changed:
        return
    names = ", ".join(t("sidebar.seed") if n == "seed" else t(text_key(C.ClassificationParams, n)) for n in changed)
    with box.container(border=True):
        st.warning(t("cls.outdated", settings=names), icon=":material/history:")
        a, b = st.columns(2)
        if a.button(t("cls.outdated.new"), disabled=is_busy(state), key="cls_outdated_new", icon=":material/add:"):
            st.session_state.pop(STATE)
            st.rerun()
        if b.button(t("cls.outdated.back"), key="cls_outdated_back", icon=":material/undo:"):
            use_settings_of(model)
            st.rerun()


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

def train_controls(p: C.ClassificationParams, state: dict) -> None:
    run, job = state["run"], state["job"]
    busy = is_busy(state)
    data = dataset(state["params"].dataset)
    steps = p.epochs * -(-len(data.train_y) // run.batch_size)
    # the lengths a checkpoint may hold: a model trained past them could not be loaded back
    too_long = run.epoch + p.epochs > checkpoints.MAX_EPOCHS or len(run.steps) + steps > checkpoints.MAX_STEPS
    a, b, c = st.columns(3)
    key = "cls.train.more" if run.has_weights else "cls.train.start"
    label = t(key + (".one" if p.epochs == 1 else ""), epochs=p.epochs)  # "1 epoch", "5 epochs"
    if a.button(label, type="primary", disabled=busy or too_long or state["key"] != model_key(p), key="cls_train",
                icon=":material/play_arrow:"):
        train, test = device_tensors(data.name)
        job = TrainingJob(lambda listen: run.train(train, test, p.epochs, listen), steps)
        if job.start():
            state["job"], state["shown_finished"] = job, False
            st.rerun()  # redraw the controls as busy (Stop enabled); the fragment then follows the job
        else:
            st.warning(t("cls.train.busy"))
    if b.button(t("cls.train.stop"), disabled=not busy or job.stop_requested.is_set(), key="cls_stop",
                icon=":material/stop:"):
        job.stop()
        st.rerun()  # Stop disabled; the fragment says the epoch is being finished
    # any weights but the initial ones, even from an epoch that diverged or failed half-way
    if c.button(t("cls.train.reset"), disabled=busy or not run.has_weights, key="cls_reset",
                icon=":material/restart_alt:"):
        st.session_state.pop(STATE)
        st.rerun()
    if too_long and not busy:
        st.caption(t("cls.train.limit", epochs=checkpoints.MAX_EPOCHS, steps=checkpoints.MAX_STEPS))
    st.fragment(run_every=0.5 if is_busy(state) else None)(_progress)(state)


def _progress(state: dict) -> None:
    run, job = state["run"], state["job"]
    if job is not None:
        job.poll()
        if job.running and job.stop_requested.is_set():
            st.progress(job.progress, text=t("cls.train.stopping", epoch=run.epoch + 1))
        elif job.running:
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

def evaluation_view(state: dict) -> None:
    run, data = state["run"], dataset(state["params"].dataset)
    if is_busy(state):
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

def drawing_view(state: dict) -> None:
    from nnkit.preprocess import MAX_BYTES, PictureError, read_picture, to_digits8, to_mnist
    from ui.canvas import draw_digit

    run, data = state["run"], dataset(state["params"].dataset)
    busy = is_busy(state)
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


# --- losses -----------------------------------------------------------------------------------

def losses_view(p: C.ClassificationParams) -> None:
    st.markdown(t("cls.losses.intro"))
    digits = dataset("digits")
    if st.toggle(t("cls.losses.run"), key="cls_losses_on"):
        curves = shared("cls_losses", (p.hidden_layers, p.hidden_size, p.activation, p.batch_size, p.seed),
                        lambda listen: C.compare_losses(p, digits, callback=listen), total=20, unit="epoch")
        if curves is not None:
            rows = [{"epoch": i + 1, "accuracy": v, "loss": t(f"cls.losses.{name}")}
                    for name, values in curves.items() for i, v in enumerate(values)]
            st.vega_lite_chart(spec=charts.lines(rows, "epoch", "accuracy", "loss", t("cls.epoch"),
                                                 t("cls.test_acc")), width="stretch")
    st.markdown(t("cls.losses.why"))
    st.subheader(t("cls.binary"))
    st.markdown(t("cls.binary.intro"))
    toy = shared("cls_binary", p.seed, lambda listen: C.binary_toy(p, callback=listen), total=300, unit="epoch")
    if toy is not None:
        left, right = st.columns([1, 1])
        left.vega_lite_chart(spec=charts.regions(toy["region"], toy["points"], t("cls.binary.chart")), width="content")
        right.metric(t("cls.train_acc"), f"{toy['accuracy']:.1%}")
        right.markdown(t("cls.binary.explain"))
