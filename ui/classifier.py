"""The Classification page's model and views: data, live training, evaluation, drawing, losses.

The page (pages/classification.py) lays these out in tabs, with the evaluation (ui/classifier_eval.py)
and the model files (ui/model_files.py).
The model being trained lives in the session (`st.session_state["cls"]`), training runs in a
background `TrainingJob`, and the dataset is loaded once per server process and shared read-only
by every session. Everything about the model (curves, evaluation, drawing, file names and
contents) describes the same weights: a stop takes effect at the end of an epoch, and the model
keeps the settings it was built with.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import streamlit as st

from nnkit import checkpoints
from nnkit.classify import predict
from nnkit.datasets.images import DatasetError, ImageSet, load
from nnkit.device import pick_device
from nnkit.experiments import classification as C
from ui import charts, params, runs
from ui.i18n import t
from ui.shared import shared
from ui.params import text_key
from ui.training import TrainingJob

# {"key": model_key(params), "params": the settings the model was built with, "run": TrainingRun,
#  "job": TrainingJob | None, "outdated": the settings changed while it trained}
STATE = "cls"
MODEL_FIELDS = C.MODEL_SETTINGS


@st.cache_resource(show_spinner=False, max_entries=3)
def dataset(name: str) -> ImageSet:
    """Loaded once per server process; every session reads the same tensors and never writes them."""
    return load(name)


@st.cache_resource(show_spinner=False, max_entries=3)
def _device_tensors(name: str, val_fraction: float, seed: int):
    p = C.ClassificationParams(dataset=name, val_fraction=val_fraction, seed=seed)
    return C.tensors(dataset(name), p, pick_device().device)


def device_tensors(p: C.ClassificationParams) -> tuple[tuple, tuple, tuple]:
    """(train, val, test) of the split `p` names, as float copies on the training device, shared as
    well (training only reads them): one per dataset, validation share and seed in use."""
    return _device_tensors(p.dataset, p.val_fraction, p.seed)


@st.cache_resource(show_spinner=False, max_entries=3)
def _split(name: str, val_fraction: float, seed: int):
    """(training, validation) indices of a split in use, drawn once per server process."""
    return C.split(dataset(name), C.ClassificationParams(dataset=name, val_fraction=val_fraction, seed=seed))


def validation_images(p: C.ClassificationParams) -> tuple[np.ndarray, np.ndarray]:
    """The validation images (uint8) and labels, in the order the evaluation sees them."""
    data, (_, val) = dataset(p.dataset), _split(p.dataset, p.val_fraction, p.seed)
    return data.train_x[val].numpy(), data.train_y[val].numpy()


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


def keep_run(state: dict) -> None:
    """The model's training so far, as a run of this page, whenever it is not training: finished,
    stopped, diverged, or loaded from a checkpoint (tagged "resumed") and trained on."""
    run, job = state["run"], state["job"]
    if not run.history or is_busy(state):
        return
    result = job.result if job is not None else None
    outcome = result.outcome if result is not None else "stopped" if job is not None else "completed"
    runs.add("classification", C.training_record(state["params"], run, outcome), identity=f"model-{run.uid}")


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

def zoom(image: np.ndarray, size: int = 56) -> np.ndarray:
    """Nearest-neighbour enlargement, so an 8x8 digit shows its pixels instead of a blur."""
    k = max(1, size // image.shape[0])
    return np.kron(image, np.ones((k, k), dtype=image.dtype))


@st.cache_data(show_spinner=False, max_entries=64)
def _pngs(pixels: bytes, shape: tuple[int, ...]) -> list[bytes]:
    """PNGs of a stack of greyscale uint8 images, enlarged: encoded once per server process, since
    the data tab draws the same 30 digits on every run of every session."""
    from PIL import Image

    out = []
    for image in np.frombuffer(pixels, dtype=np.uint8).reshape(shape):
        buffer = io.BytesIO()
        Image.fromarray(zoom(image)).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def image_grid(images: list[np.ndarray], captions: list[str], columns: int = 10) -> None:
    """Greyscale images (0..255; clipped) in rows of `columns`, each with its caption."""
    if not images:
        return
    stack = np.stack([np.clip(image, 0, 255).astype(np.uint8) for image in images])
    pictures = _pngs(stack.tobytes(), stack.shape)
    for start in range(0, len(images), columns):
        for col, picture, caption in zip(st.columns(columns), pictures[start:start + columns],
                                         captions[start:start + columns]):
            col.image(picture, caption=caption)


def data_view(p: C.ClassificationParams, data: ImageSet) -> None:
    train, val = _split(data.name, p.val_fraction, p.seed)
    st.caption(t("cls.data.source", source=t(f"cls.source.{data.name}"), train=f"{len(train):,}", val=f"{len(val):,}",
                  test=f"{len(data.test_y):,}", h=data.shape[0], w=data.shape[1], share=f"{p.val_fraction:.0%}"))
    x, y = data.train_x[train].numpy(), data.train_y[train].numpy()
    st.subheader(t("cls.data.samples"))
    picks = [int(np.flatnonzero(y == c)[i]) for i in range(2) for c in range(data.n_classes)]
    image_grid([x[i] for i in picks], [data.classes[y[i]] for i in picks])
    left, right = st.columns(2)
    left.subheader(t("cls.data.counts"))
    sets = {t("cls.train"): y, t("cls.val"): data.train_y[val].numpy(), t("cls.test"): data.test_y.numpy()}
    left.vega_lite_chart(spec=charts.grouped_bars(
        [{"class": data.classes[c], "count": int(n), "set": name}
         for name, labels in sets.items() for c, n in enumerate(np.bincount(labels, minlength=data.n_classes))],
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
    steps = p.epochs * -(-len(device_tensors(state["params"])[0][1]) // run.batch_size)
    # the lengths a checkpoint may hold: a model trained past them could not be loaded back
    too_long = run.epoch + p.epochs > checkpoints.MAX_EPOCHS or len(run.steps) + steps > checkpoints.MAX_STEPS
    a, b, c = st.columns(3)
    key = "cls.train.more" if run.has_weights else "cls.train.start"
    label = t(key + (".one" if p.epochs == 1 else ""), epochs=p.epochs)  # "1 epoch", "5 epochs"
    if a.button(label, type="primary", disabled=busy or too_long or state["key"] != model_key(p), key="cls_train",
                icon=":material/play_arrow:"):
        train, val, _ = device_tensors(state["params"])
        job = TrainingJob(lambda listen: run.train(train, val, p.epochs, listen), steps)
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


def smoothed(values: np.ndarray) -> np.ndarray:
    """The trailing mean over a window of 1/50 of the steps (at least 5): the trend of noisy batches."""
    window = max(5, len(values) // 50)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def step_charts(steps: list) -> None:
    """Loss and batch accuracy of every step, each on its own axis: the raw values faint, their trend over them."""
    stride = max(1, len(steps) // 300)
    for column, (k, name) in zip(st.columns(2), enumerate(("loss", "acc"))):
        values = np.array([s[k] for s in steps], dtype=float)
        trend = smoothed(values)
        rows = [{"step": i + 1, "raw": float(values[i]), "smooth": float(trend[i])}
                for i in range(0, len(values), stride)]
        column.vega_lite_chart(spec=charts.live_smoothed(rows, "step", t("cls.step"), t(f"cls.curve.step_{name}"),
                                                         [0, 1] if name == "acc" else None), width="stretch")


def _progress(state: dict) -> None:
    run, job = state["run"], state["job"]
    # One reading of what the training thread appends to: the epoch counter, the numbers and the curves
    # then describe the same epochs (read apart, an epoch ending in between showed epoch 9's numbers as
    # epoch 10's). run.epoch is the length of its history.
    history, steps = list(run.history), list(run.steps)
    epoch = len(history)
    if job is not None:
        job.poll()
        if job.running and job.stop_requested.is_set():
            st.progress(job.progress, text=t("cls.train.stopping", epoch=epoch + 1))
        elif job.running:
            st.progress(job.progress, text=t("cls.train.progress", epoch=epoch, steps=job.steps_done))
        elif job.error is not None:
            st.error(t("cls.train.error", error=f"{type(job.error).__name__}: {job.error}"))
        elif not job.stop_requested.is_set() and job.result is not None and job.result.outcome == "diverged":
            st.error(t("cls.train.diverged"))
        if not job.running and not state.get("shown_finished"):
            state["shown_finished"] = True
            st.rerun()  # the whole page once: evaluation and files now describe the new weights
    if not steps:
        st.caption(t("cls.train.none"))
        return
    step_charts(steps)
    if not history:
        return
    last = history[-1]
    m = st.columns(4)
    m[0].metric(t("cls.epoch"), epoch)
    m[1].metric(t("cls.train_loss"), f"{last['train_loss']:.4f}")
    m[2].metric(t("cls.train_acc"), f"{last['train_acc']:.2%}")
    m[3].metric(t("cls.val_acc"), f"{last['val_acc']:.2%}")
    st.caption(t("cls.train.measured", running=f"{last['running_acc']:.2%}"))
    rows = [{"epoch": e["epoch"] + 1, "value": e[k], "curve": t(f"cls.curve.{k}")}
            for e in history for k in ("train_loss", "val_loss")]
    accs = [{"epoch": e["epoch"] + 1, "value": e[k], "curve": t(f"cls.curve.{k}")}
            for e in history for k in ("train_acc", "val_acc")]
    left, right = st.columns(2)
    left.vega_lite_chart(spec=charts.live_lines(rows, "epoch", "value", "curve", t("cls.epoch"), t("cls.loss")),
                         width="stretch")
    right.vega_lite_chart(spec=charts.live_lines(accs, "epoch", "value", "curve", t("cls.epoch"),
                                                 t("cls.accuracy")), width="stretch")


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
        st.image(zoom(image, 112), caption=t("cls.draw.seen"), clamp=True)
        st.metric(t("cls.draw.guess"), data.classes[int(np.argmax(probabilities))])
        st.caption(t("cls.draw.confidence", p=f"{float(np.max(probabilities)):.1%}"))
        st.vega_lite_chart(spec=charts.bars(list(data.classes), [float(v) for v in probabilities],
                                            t("cls.probability")), width="stretch")


# --- losses -----------------------------------------------------------------------------------

def losses_view(p: C.ClassificationParams) -> None:
    st.markdown(t("cls.losses.intro"))
    digits = dataset("digits")
    if st.toggle(t("cls.losses.run"), key="cls_losses_on"):
        curves = shared("cls_losses", (p.hidden_layers, p.hidden_size, p.activation, p.batch_size, p.val_fraction,
                                       p.seed),
                        lambda listen: C.compare_losses(p, digits, callback=listen), total=20, unit="epoch")
        if curves is not None:
            rows = [{"epoch": i + 1, "accuracy": v, "loss": t(f"cls.losses.{name}")}
                    for name, values in curves.items() for i, v in enumerate(values)]
            st.vega_lite_chart(spec=charts.lines(rows, "epoch", "accuracy", "loss", t("cls.epoch"),
                                                 t("cls.val_acc")), width="stretch")
    st.markdown(t("cls.losses.why"))
    st.subheader(t("cls.binary"))
    st.markdown(t("cls.binary.intro"))
    toy = shared("cls_binary", p.seed, lambda listen: C.binary_toy(p, callback=listen), total=300, unit="epoch")
    if toy is not None:
        left, right = st.columns([1, 1])
        left.vega_lite_chart(spec=charts.regions(toy["region"], toy["points"], t("cls.binary.chart")), width="content")
        right.metric(t("cls.train_acc"), f"{toy['accuracy']:.1%}")
        right.markdown(t("cls.binary.explain"))
