"""The Classification page's model files: the three ways to save a model, and loading one back.

Files are written only when the learner asks for one (a download button's `data` is a callable),
so a rerun holds no file bytes; an upload is read safely and resumed through nnkit's own
`classification.resume`, the path the tests check against an uninterrupted run.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from nnkit import checkpoints
from nnkit.classify import network_of
from nnkit.datasets.images import DatasetError, ImageSet
from nnkit.device import pick_device
from nnkit.experiments import classification as C
from ui.classifier import dataset, is_busy, keep, use_settings_of
from ui.i18n import t
from ui.text import message


def _when_asked(run, write: Callable[[], bytes]) -> Callable[[], bytes]:
    """A download's `data` as a callable: the file is written only when the learner asks for it, so a
    rerun holds no file bytes. Streamlit calls it later, on another thread: a run that has trained
    on since the button was drawn would not match the file's name, so it is refused then."""
    steps = len(run.steps)

    def data() -> bytes:
        if len(run.steps) != steps:
            raise RuntimeError("the model has trained on since this button was drawn")
        return write()

    return data


def files_view(p: C.ClassificationParams, data: ImageSet, state: dict) -> None:
    run, model = state["run"], state["params"]
    st.markdown(t("cls.files.intro"))
    busy = is_busy(state)
    if run.has_weights and not busy:
        name = f"{model.dataset}-{run.epoch}ep"
        files = [
            (t("cls.files.state_pt"), "dl_state_pt", f"{name}-state_dict.pt",
             lambda: checkpoints.state_dict_pt(run.model)),
            (t("cls.files.state_st"), "dl_state_st", f"{name}.safetensors",
             lambda: checkpoints.state_dict_safetensors(run.model)),
            (t("cls.files.whole"), "dl_whole", f"{name}-whole-model.pt", lambda: checkpoints.whole_model(run.model)),
            (t("cls.files.checkpoint"), "dl_checkpoint", f"{name}-checkpoint.pt",
             lambda: checkpoints.checkpoint(run.model, run.optimizer, run.history, run.steps, C.settings(model))),
        ]
        for column, (label, key, filename, write) in zip(st.columns(4), files):
            column.download_button(label, _when_asked(run, write), filename, key=key, on_click="ignore")
    st.markdown(t("cls.files.explain"))
    # No max_upload_size: over a browser-side cap Streamlit shows only a red icon (English tooltip) and
    # keeps the previous file; up to the server's cap, read_model_file names the size and the limit.
    upload = st.file_uploader(t("cls.files.upload", mb=checkpoints.MAX_BYTES // 2**20),
                              type=["pt", "pth", "safetensors"], key="cls_model_file")
    if upload is None or busy or st.session_state.get("cls_loaded") == upload.file_id:
        return
    try:
        loaded = checkpoints.read_model_file(upload.getvalue(), upload.name)
        if loaded.kind == "checkpoint":
            model, run = C.resume(loaded.checkpoint, pick_device().device, dataset)
            use_settings_of(model)
        else:
            model, run = p, C.start(p, data, pick_device().device)
            checkpoints.load_weights(run.model, loaded.state_dict)
            run.loaded = True
    except checkpoints.ModelFileError as err:
        st.error(message("cls.files.error", err))
        if err.code == "mismatch":
            fits_view(network_of(loaded.state_dict))
        return
    except DatasetError as err:  # a checkpoint of a dataset this server has not prepared
        st.error(t("cls.files.error.missing" if err.code == "missing" else "cls.files.error.corrupt"))
        return
    keep(model, run)
    st.session_state["cls_loaded"] = upload.file_id
    st.session_state["cls_loaded_message"] = t("cls.files.loaded", kind=t(f"cls.files.kind.{loaded.kind}"),
                                               epoch=run.epoch)
    st.rerun()


def fits_view(network: tuple[int, tuple[int, ...], int] | None) -> None:
    """The settings that would build the network of a file that did not fit, as far as the page has them."""
    if network is None:
        return
    inputs, hidden, classes = network
    if not hidden:
        layers = t("cls.files.fits.none")
    elif len(hidden) == 1:
        layers = t("cls.files.fits.layers.one", units=hidden[0])
    elif len(set(hidden)) == 1:
        layers = t("cls.files.fits.layers", layers=len(hidden), units=hidden[0])
    else:  # not one the page builds: every hidden layer here has the same width
        layers = t("cls.files.fits.widths", units=", ".join(map(str, hidden)))
    st.info(t("cls.files.fits", hidden=layers, inputs=inputs, classes=classes), icon=":material/tune:")
