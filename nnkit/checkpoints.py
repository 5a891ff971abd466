"""Model files, the three ways a course teaches, and the safe way to read one back.

1. the state_dict (weights only), as .pt or .safetensors;
2. the whole model, `torch.save(model)`: a pickle that names the model's class, so it only loads
   where that class can be imported from the same place, and loading it runs code;
3. a checkpoint: weights, optimizer state, epoch, history and settings, to resume training.

Uploads are read as safetensors or with `torch.load(weights_only=True)` only, after a size check.
A whole-model pickle or a TorchScript file is refused with the reason: loading either one means
running whatever program the file holds.
"""

from __future__ import annotations

import copy
import io
import pickle
import zipfile
from dataclasses import dataclass

import torch
from torch import nn

from nnkit.errors import CodedError

FORMAT = "nnkit-checkpoint-1"
# A 784-256-10 MLP with Adam's state is about 2.5 MB, the largest the page trains (3 x 512 on MNIST) about
# 11 MB. Below the server's upload cap (server.maxUploadSize, 20 MB), so that a file a little over
# this limit still reaches the page and is refused with its size instead of by the browser.
MAX_BYTES = 16 * 2**20


ERROR_CODES = ("too_big", "unpacks_too_big", "compressed", "empty", "whole_model", "torchscript", "corrupt",
               "not_weights", "mismatch")


class ModelFileError(CodedError):
    """A model file that cannot be used; `code` picks the translated message, `details` fill it."""

    codes = ERROR_CODES


def _save(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _cpu_state(model: nn.Module) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def state_dict_pt(model: nn.Module) -> bytes:
    return _save(_cpu_state(model))


def state_dict_safetensors(model: nn.Module) -> bytes:
    from safetensors.torch import save

    return save(_cpu_state(model))


def whole_model(model: nn.Module) -> bytes:
    return _save(copy.deepcopy(model).cpu())  # a copy: the model being trained stays on its device


def _cpu(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cpu(v) for v in value)
    return value


def checkpoint(model: nn.Module, optimizer: torch.optim.Optimizer, history: list, steps: list,
               settings: dict) -> bytes:
    """Everything needed to resume: only tensors, numbers, strings, lists and dicts (weights_only-safe)."""
    return _save({"format": FORMAT, "model": _cpu_state(model), "optimizer": _cpu(optimizer.state_dict()),
                  "epoch": len(history), "history": list(history), "steps": [list(s) for s in steps],
                  "settings": dict(settings)})


@dataclass
class ModelFile:
    kind: str  # "state_dict" or "checkpoint"
    state_dict: dict
    checkpoint: dict | None = None


def read_model_file(data: bytes, filename: str = "", max_bytes: int = MAX_BYTES) -> ModelFile:
    """Read an uploaded model file without running anything in it, or raise ModelFileError."""
    if len(data) > max_bytes:
        raise ModelFileError("too_big", f"the file has {len(data):,} bytes; the limit is {max_bytes:,}",
                             size=len(data), limit=max_bytes)
    if not data:
        raise ModelFileError("empty", "the file is empty")
    if filename.endswith(".safetensors") or not data.startswith(b"PK"):
        content = _read_safetensors(data) if filename.endswith(".safetensors") else _read_pickle(data)
    else:
        try:
            entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except zipfile.BadZipFile:
            raise ModelFileError("corrupt", "the file is damaged: it is not a complete PyTorch file") from None
        if any(e.filename.endswith("constants.pkl") or "/code/" in e.filename for e in entries):
            raise ModelFileError("torchscript", "TorchScript files are programs and are not loaded")
        # Sizes as the zip's directory states them, read before anything is unpacked (a zip bomb).
        unpacked = sum(e.file_size for e in entries)
        if unpacked > max_bytes:
            raise ModelFileError("unpacks_too_big", f"the file unpacks to {unpacked:,} bytes; the limit is "
                                 f"{max_bytes:,}", size=unpacked, limit=max_bytes)
        # torch.save stores its entries uncompressed; a compressed one may state false sizes
        if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
            raise ModelFileError("compressed", "the file is compressed, which torch.save never does")
        content = _read_pickle(data)
    return _classify(content)


def _read_safetensors(data: bytes) -> dict:
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as err:  # noqa: BLE001 - the library raises several types for a bad header
        raise ModelFileError("corrupt", f"the safetensors file is damaged ({type(err).__name__})") from None


def _read_pickle(data: bytes):
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as err:
        # weights_only refuses any class it does not know: a whole model (or anything else) is a program
        if "GLOBAL" in str(err) or "global" in str(err):
            raise ModelFileError("whole_model", "this file stores a whole model (a pickled program); only "
                                 "weights (state_dict) and checkpoints are loaded") from None
        raise ModelFileError("corrupt", "the file is damaged or is not a PyTorch file") from None
    except Exception:  # noqa: BLE001 - truncated zips, wrong magic numbers, ...
        raise ModelFileError("corrupt", "the file is damaged or is not a PyTorch file") from None


def _is_state_dict(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _checkpoint_is_complete(content: dict) -> bool:
    """Every part a resume reads, of the type it reads: a damaged or hand-made file is refused here
    rather than failing half-way through a resume."""
    optimizer, history, steps = content.get("optimizer"), content.get("history"), content.get("steps", [])
    epoch_keys = {"epoch", "train_loss", "val_loss", "val_acc"}
    return (_is_state_dict(content.get("model")) and isinstance(content.get("settings"), dict)
            and isinstance(optimizer, dict) and isinstance(optimizer.get("param_groups"), list)
            and isinstance(optimizer.get("state"), dict)
            and isinstance(history, list) and all(isinstance(e, dict) and epoch_keys <= set(e) for e in history)
            and isinstance(steps, list) and all(isinstance(s, (list, tuple)) and len(s) == 2 for s in steps))


def _classify(content) -> ModelFile:
    if isinstance(content, dict) and content.get("format") == FORMAT:
        if not _checkpoint_is_complete(content):
            raise ModelFileError("corrupt", "the checkpoint is incomplete or damaged")
        return ModelFile("checkpoint", content["model"], content)
    if _is_state_dict(content):
        return ModelFile("state_dict", content)
    raise ModelFileError("not_weights", "the file holds no model weights")


def load_weights(model: nn.Module, state_dict: dict) -> None:
    """Load weights into `model`, or name every layer that does not fit."""
    expected = model.state_dict()
    problems = [f"{k}: missing" for k in expected if k not in state_dict]
    problems += [f"{k}: not in this model" for k in state_dict if k not in expected]
    problems += [f"{k}: file {tuple(state_dict[k].shape)}, model {tuple(v.shape)}"
                 for k, v in expected.items() if k in state_dict and state_dict[k].shape != v.shape]
    if problems:
        raise ModelFileError("mismatch", "the file is for another architecture: " + "; ".join(problems),
                             layers="; ".join(problems))
    model.load_state_dict(state_dict)
