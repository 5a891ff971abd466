"""Model files, the three ways a course teaches, and the safe way to read one back.

1. the state_dict (weights only), as .pt or .safetensors;
2. the whole model, `torch.save(model)`: a pickle that names the model's class, so it only loads
   where that class can be imported from the same place, and loading it runs code;
3. a checkpoint: weights, optimizer state, epoch, history and settings, to resume training, and the
   learning-rate scheduler's state when there is one (a resumed run continues its schedule).

Uploads are read as safetensors or with `torch.load(weights_only=True)` only, after a size check.
A whole-model pickle or a TorchScript file is refused with the reason: loading either one means
running whatever program the file holds. A checkpoint is checked part by part (every key and type
a resume reads, and its length) before anything uses it, so a damaged or hand-made file gets a
clear message instead of failing half-way through a resume.
"""

from __future__ import annotations

import copy
import io
import math
import pickle
import zipfile
from dataclasses import dataclass

import torch
from torch import nn

from nnkit.errors import CodedError
from nnkit.optim import KERNEL_CHOICES

# 2: history and steps as tensors, not lists (see MAX_PICKLE_BYTES). 3: a validation split (val_fraction in
# the settings), the training set scored in eval mode each epoch, the running averages kept beside it.
FORMAT = "nnkit-checkpoint-3"
# Format 2 trained on every training image and watched the test set: resuming it with a validation split
# would train on other images than it did. Refused with its own reason (ModelFileError "no_validation").
FORMAT_WITHOUT_VALIDATION = "nnkit-checkpoint-2"
# A 784-256-10 MLP with Adam's state is about 2.5 MB, the largest the page trains (3 x 512 on MNIST) about
# 11 MB, 15.5 MB at the history limits below. Below the server's upload cap (server.maxUploadSize, 20 MB),
# so that a file a little over this limit still reaches the page and is refused with its size instead
# of by the browser.
MAX_BYTES = 16 * 2**20
# torch.load(weights_only=True) unpickles in Python, about 2 us per item: a 4 MB list of two million
# references to one dict takes 4.4 s. Every bulky part of a model file is a tensor, read as raw
# bytes; what is left (names, settings, the optimizer's layout) takes a few kilobytes.
MAX_PICKLE_BYTES = 64 * 2**10
# What a resume reads back and the page then holds and charts. 10,000 epochs is far beyond any
# lesson; 500,000 steps is 66 MNIST epochs at the smallest batch (8), 266 at the default (32), and
# 4 MB in the file as float32 pairs, so the largest network's checkpoint still fits in MAX_BYTES.
MAX_EPOCHS = 10_000
MAX_STEPS = 500_000
# one row per finished epoch: losses in the even columns, accuracies in the odd ones
HISTORY_FIELDS = ("train_loss", "train_acc", "val_loss", "val_acc", "running_loss", "running_acc")


ERROR_CODES = ("too_big", "unpacks_too_big", "compressed", "empty", "whole_model", "torchscript", "corrupt",
               "not_weights", "mismatch", "too_long", "old_format", "no_validation")


class ModelFileError(CodedError):
    """A model file that cannot be used; `code` picks the translated message, `details` fill it."""

    codes = ERROR_CODES
    outside = ("layers",)  # layer names come from the uploaded file


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
               settings: dict, scheduler=None) -> bytes:
    """Everything needed to resume: only tensors, numbers, strings, lists and dicts (weights_only-safe).

    `history` holds fit's epoch events, `steps` (loss, batch accuracy or None) pairs; both are
    stored as tables (tensors): epoch i is row i, a missing accuracy is NaN. A `scheduler`'s
    state_dict (numbers, strings and lists for torch's own schedulers) is kept under "scheduler";
    a checkpoint without one (older files too) holds None there once read."""
    table = torch.tensor([[e[k] for k in HISTORY_FIELDS] for e in history], dtype=torch.float64)
    pairs = torch.tensor([(loss, math.nan if acc is None else acc) for loss, acc in steps], dtype=torch.float32)
    return _save({"format": FORMAT, "model": _cpu_state(model), "optimizer": _cpu(optimizer.state_dict()),
                  "epoch": len(history), "history": table.reshape(-1, len(HISTORY_FIELDS)),
                  "steps": pairs.reshape(-1, 2), "settings": dict(settings),
                  "scheduler": None if scheduler is None else _cpu(scheduler.state_dict())})


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
    if filename.endswith(".safetensors"):
        content = _read_safetensors(data)
    elif not data.startswith(b"PK"):  # a bare pickle, or torch.save's format from before PyTorch 1.6
        if len(data) > MAX_PICKLE_BYTES:
            raise ModelFileError("corrupt", "the file is not in PyTorch's zip format (torch.save since 1.6)")
        content = _read_pickle(data)
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
        if any(e.filename.endswith("data.pkl") and e.file_size > MAX_PICKLE_BYTES for e in entries):
            raise ModelFileError("corrupt", f"its structure takes more than {MAX_PICKLE_BYTES:,} bytes; a model "
                                 "file's takes a few kilobytes")
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


def _dense(value) -> bool:
    """A plain tensor (sparse and quantized ones fail later, in the middle of a load or a step)."""
    return isinstance(value, torch.Tensor) and value.layout == torch.strided and not value.is_quantized


def _is_state_dict(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and _dense(v) for k, v in value.items())


def _damaged(reason: str) -> ModelFileError:
    return ModelFileError("corrupt", f"the checkpoint is damaged: {reason}")


def _table(content: dict, name: str, width: int) -> torch.Tensor:
    value = content.get(name)
    if not (_dense(value) and value.is_floating_point() and value.dim() == 2 and value.shape[1] == width):
        raise _damaged(f"{name} is not a table of {width} numbers per row")
    return value.double()


def _within(values: torch.Tensor, low: float, high: float) -> bool:
    return bool((values.isfinite() & (values >= low) & (values <= high)).all())


def _read_checkpoint(content: dict) -> dict:
    """Every part a resume reads, checked for its type and its length (first, before any work that
    grows with it), then given the form a training run holds: a list of epoch records and a list
    of (loss, accuracy) steps."""
    history, steps = _table(content, "history", len(HISTORY_FIELDS)), _table(content, "steps", 2)
    if len(history) > MAX_EPOCHS or len(steps) > MAX_STEPS:
        raise ModelFileError("too_long", f"the checkpoint holds {len(history):,} epochs and {len(steps):,} steps; "
                             f"the limits are {MAX_EPOCHS:,} and {MAX_STEPS:,}", epochs=MAX_EPOCHS, steps=MAX_STEPS)
    if type(content.get("epoch")) is not int or content["epoch"] != len(history):
        raise _damaged("its epoch count and its history disagree")
    if not (_within(history[:, 0::2], 0, math.inf) and _within(history[:, 1::2], 0, 1)):  # losses, accuracies
        raise _damaged("a loss or an accuracy in its history is not a number in range")
    accuracies = steps[:, 1]
    if not (_within(steps[:, 0], 0, math.inf) and _within(accuracies[~accuracies.isnan()], 0, 1)):
        raise _damaged("a step's loss or accuracy is not a number in range")
    optimizer, settings = content.get("optimizer"), content.get("settings")
    if not (isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict)
            and isinstance(optimizer.get("param_groups"), list)):
        raise _damaged("it has no optimizer state")
    if not (isinstance(settings, dict) and all(isinstance(k, str) for k in settings)):
        raise _damaged("it has no settings")
    if not _is_state_dict(content.get("model")):
        raise _damaged("it has no weights")
    if not (content.get("scheduler") is None or isinstance(content["scheduler"], dict)):
        raise _damaged("its scheduler state is not a table of settings")
    records = [{"event": "epoch", "epoch": i, **dict(zip(HISTORY_FIELDS, row))}
               for i, row in enumerate(history.tolist())]
    losses, accuracies = steps[:, 0].tolist(), steps[:, 1].tolist()  # flat lists: 3x faster than rows
    pairs = list(zip(losses, [None if math.isnan(a) else a for a in accuracies]))
    return {**content, "history": records, "steps": pairs, "scheduler": content.get("scheduler")}


def _classify(content) -> ModelFile:
    if isinstance(content, dict) and content.get("format") == FORMAT:
        content = _read_checkpoint(content)
        return ModelFile("checkpoint", content["model"], content)
    if isinstance(content, dict) and content.get("format") == FORMAT_WITHOUT_VALIDATION:
        raise ModelFileError("no_validation", "a checkpoint from before the validation split: it trained on "
                             "every training image and watched the test set, so it cannot resume here")
    if isinstance(content, dict) and str(content.get("format", "")).startswith("nnkit-checkpoint-"):
        raise ModelFileError("old_format", f"a checkpoint in another format; this version reads {FORMAT}")
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


def _same_kind(value, like) -> bool:
    """`value` can stand where `like` stands: a finite number for a number, as many for a tuple..."""
    if isinstance(like, (tuple, list)):
        return isinstance(value, (tuple, list)) and len(value) == len(like) and all(map(_same_kind, value, like))
    if isinstance(like, torch.Tensor):
        return (_dense(value) and value.shape == like.shape and value.is_floating_point()
                and bool(value.isfinite().all()))
    if isinstance(like, (int, float)) and not isinstance(like, bool):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return type(value) is type(like)


def _state_after_one_step(optimizer: torch.optim.Optimizer) -> dict:
    """What this optimizer keeps per weight, from one step of a copy (the optimizer is untouched)."""
    probe = copy.deepcopy(optimizer)
    for group in probe.param_groups:
        for weight in group["params"]:
            weight.grad = torch.zeros_like(weight)
    probe.step()
    return probe.state_dict()["state"]


def load_optimizer(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Restore an optimizer's state from a checkpoint, or raise ModelFileError.

    `load_state_dict` takes almost anything and the next step fails instead: every setting of every
    group must be of the kind this optimizer keeps, and every per-weight entry what one step of this
    optimizer makes (Adam: step, exp_avg, exp_avg_sq, each of its weight's shape)."""
    fresh = optimizer.state_dict()
    groups = saved["param_groups"]
    if len(groups) != len(fresh["param_groups"]) or not all(isinstance(g, dict) for g in groups):
        raise _damaged("its optimizer has other parameter groups")
    for group, reference in zip(groups, fresh["param_groups"]):
        indices = group.get("params")
        if not (isinstance(indices, list) and [type(i) for i in indices] == [int] * len(indices)
                and indices == reference["params"]):
            raise _damaged("its optimizer holds other weights")
        wrong = [k for k, v in reference.items()  # the kernel stays this optimizer's (nnkit.optim)
                 if k not in ("params", *KERNEL_CHOICES) and not (k in group and _same_kind(group[k], v))]
        if wrong:
            raise _damaged(f"its optimizer's {', '.join(wrong)} is missing or not a number of the right kind")
    expected = _state_after_one_step(optimizer)
    for index, entry in saved["state"].items():
        if index not in expected or not isinstance(entry, dict) or set(entry) != set(expected[index]):
            raise _damaged(f"its optimizer state for weight {index!r} is not what {type(optimizer).__name__} keeps")
        if not all(_same_kind(entry[k], v) for k, v in expected[index].items()):
            raise _damaged(f"its optimizer state for weight {index} has a value of the wrong shape or kind")
    optimizer.load_state_dict(saved)


def _same_layout(value, like) -> bool:
    """A scheduler state entry shaped as this scheduler's own: the same keys, list lengths and kinds
    (any int or float for a number: OneCycleLR keeps 2.0 and 9 side by side; inf is a valid `best`)."""
    if isinstance(like, dict):
        return (isinstance(value, dict) and set(value) == set(like)
                and all(_same_layout(value[k], like[k]) for k in like))
    if isinstance(like, (list, tuple)):
        return isinstance(value, (list, tuple)) and len(value) == len(like) and all(map(_same_layout, value, like))
    if isinstance(like, (int, float)) and not isinstance(like, bool):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    return type(value) is type(like)


def load_scheduler(scheduler, saved: dict | None) -> None:
    """Restore a learning-rate scheduler's state from a checkpoint, or raise ModelFileError.

    `saved` None (a checkpoint from before schedulers, or of a run without one) leaves the scheduler
    where it starts. Otherwise the state must have the layout of this scheduler's own: a StepLR's state
    loaded into a CosineAnnealingLR would load without a word and give a wrong curve."""
    if saved is None:
        return
    if not _same_layout(saved, scheduler.state_dict()):
        raise _damaged(f"its scheduler state is not what {type(scheduler).__name__} keeps")
    scheduler.load_state_dict(saved)
