"""Real image datasets: scikit-learn's 8x8 digits, MNIST and Fashion-MNIST, cached on disk.

- "digits" ships inside scikit-learn and works offline; it is read from scikit-learn's own file without
  importing scikit-learn (its import costs a server 130 MB) and never cached (it loads in ~20 ms).
- "mnist" and "fashion-mnist" are read once through torchvision from the four uncompressed IDX
  files in `root/MNIST/raw/` or `root/FashionMNIST/raw/`, checked, and saved as ONE compact file
  `root/nnkit-<name>.pt` (four uint8/int64 tensors). Later loads read only that file.

Every problem becomes a DatasetError with a `code` ("missing", "corrupt", "unreadable", "unknown")
and `details` for a translated message, like tabular.TableError. Files are never unpickled unsafely:
the cache is read with `torch.load(..., weights_only=True)` only, and torchvision reads the raw IDX
files as bytes.

torch is imported here (cheap enough for a data module); torchvision and scikit-learn only inside
the functions that need them, so loading a cached set never pays torchvision's import.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nnkit.errors import CodedError

DATASETS = ("digits", "mnist", "fashion-mnist")
ERROR_CODES = ("missing", "corrupt", "unreadable", "unknown")
CACHE_FORMAT = 1
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DIGIT_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGITS_SEED = 0
DIGITS_TEST_FRACTION = 0.2
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}  # also the raw folder's name
_CACHE_KEYS = ("train_x", "train_y", "test_x", "test_y")
# What torchvision raises on bad or missing files and failed downloads (zlib/gzip: a bad .gz archive).
_READ_ERRORS = (RuntimeError, ValueError, AssertionError, TypeError, IndexError, OSError, EOFError, zlib.error)


class DatasetError(CodedError):
    """A dataset that cannot be used; `code` selects the translated message, `details` fill it in."""

    codes = ERROR_CODES


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors field by field has no single truth value
class ImageSet:
    name: str
    train_x: torch.Tensor  # uint8 (N, H, W), 0..255
    train_y: torch.Tensor  # int64 (N,), 0..n_classes-1
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: tuple[str, ...]
    source: str  # one honest line about what the data is

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.train_x.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def input_size(self) -> int:
        height, width = self.shape
        return height * width


def data_dir() -> Path:
    """Where datasets live: $NNKIT_DATA_DIR, else $XDG_CACHE_HOME/nnkit, else ~/.cache/nnkit."""
    if os.environ.get("NNKIT_DATA_DIR"):
        return Path(os.environ["NNKIT_DATA_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "nnkit"
    return Path.home() / ".cache" / "nnkit"


def download_command(name: str) -> str:
    return f"python -m nnkit data download {name}"


def cache_path(name: str, root: str | os.PathLike | None = None) -> Path:
    return _root(root) / f"nnkit-{_known(name)}.pt"


def raw_folder(name: str, root: str | os.PathLike | None = None) -> Path:
    return _root(root) / _TORCHVISION_CLASS[_known(name)] / "raw"


def state(name: str, root: str | os.PathLike | None = None) -> str:
    """One of: "builtin" (digits), "cached", "raw" (the four IDX files, not cached yet), "missing"."""
    name = _known(name)
    if name == "digits":
        return "builtin"
    if cache_path(name, root).is_file():
        return "cached"
    return "raw" if _raw_present(name, _root(root)) else "missing"


# --- checks -------------------------------------------------------------------------------------

def validate(x, y, name: str, n_classes: int = 10, *, split: str | None = None) -> None:
    """Raise DatasetError("corrupt") unless x is uint8 (N, H, W) and y int64 (N,) in 0..n_classes-1.

    torchvision checks none of this across files: it loads 50 labels for 100 images silently.
    `split` ("train"/"test") only names the part in the message.
    """
    where = f"{split} " if split else ""

    def corrupt(problem: str):
        return DatasetError("corrupt", f"{name}: {where}{problem}", name=name, problem=f"{where}{problem}")

    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise corrupt("images and labels must be tensors")
    if x.dtype != torch.uint8 or x.dim() != 3:
        raise corrupt(f"images must be a 3-D uint8 array (N, height, width), got {x.dim()}-D {x.dtype}")
    if y.dtype != torch.int64 or y.dim() != 1:
        raise corrupt(f"labels must be a 1-D int64 array, got {y.dim()}-D {y.dtype}")
    if x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise corrupt(f"no images (shape {tuple(x.shape)})")
    if x.shape[0] != y.shape[0]:
        raise corrupt(f"{x.shape[0]:,} images but {y.shape[0]:,} labels")
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= n_classes:
        bad = low if low < 0 else high
        raise corrupt(f"label {bad} found; labels must be 0..{n_classes - 1}")


def _check_pair(tensors: dict, name: str, n_classes: int) -> None:
    for split in ("train", "test"):
        validate(tensors[f"{split}_x"], tensors[f"{split}_y"], name, n_classes, split=split)
    if tensors["train_x"].shape[1:] != tensors["test_x"].shape[1:]:
        problem = (f"train images are {tuple(tensors['train_x'].shape[1:])} pixels "
                   f"but test images {tuple(tensors['test_x'].shape[1:])}")
        raise DatasetError("corrupt", f"{name}: {problem}", name=name, problem=problem)


# --- scikit-learn's digits ----------------------------------------------------------------------

def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """The (1797, 8, 8) images (0..16) and labels of sklearn.datasets.load_digits().

    Read from the file scikit-learn ships, as load_digits itself reads it, without importing
    scikit-learn: its import (with SciPy) costs a server 130 MB of memory and 1.5-5 s, for one
    small table. Falls back to load_digits() where the file is not where scikit-learn 1.x has it.
    """
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    path = Path(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz") if spec else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits as sklearn_digits

        bunch = sklearn_digits()
        return bunch.images, bunch.target
    with gzip.open(path, "rt") as table:
        data = np.loadtxt(table, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


def load_digits() -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (8x8, 0..16) as uint8 0..255, stratified 80/20.

    The split is fixed (seed DIGITS_SEED): the same images land in the same split on every call and
    every machine. Both splits keep the original order of the images (no shuffling here: training
    shuffles per epoch; the test set is always evaluated in this order).
    """
    pixels, target = _sklearn_digits()
    images = np.floor(pixels * (255.0 / 16.0) + 0.5).clip(0, 255).astype(np.uint8)  # round half up
    labels = target.astype(np.int64)
    rng = np.random.default_rng(DIGITS_SEED)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        n_test = int(round(len(members) * DIGITS_TEST_FRACTION))
        test[rng.permutation(members)[:n_test]] = True
    return ImageSet(
        name="digits",
        train_x=torch.from_numpy(images[~test].copy()), train_y=torch.from_numpy(labels[~test].copy()),
        test_x=torch.from_numpy(images[test].copy()), test_y=torch.from_numpy(labels[test].copy()),
        classes=DIGIT_CLASSES,
        source=f"scikit-learn's {len(labels):,} real handwritten digits, 8x8 pixels",
    )


def validation_split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, validation) of a stratified split of a training set: round(n * fraction) of
    each class's n images, drawn by a generator seeded with `seed`, go to validation. Both keep the
    data's order. The test set stays apart: it is scored once, at the end, never to choose by."""
    generator = torch.Generator().manual_seed(seed)
    held_out = torch.zeros(len(labels), dtype=torch.bool)
    for label in range(int(labels.max()) + 1 if len(labels) else 0):
        members = torch.nonzero(labels == label).flatten()
        picked = torch.randperm(len(members), generator=generator)[:round(len(members) * fraction)]
        held_out[members[picked]] = True
    return torch.nonzero(~held_out).flatten(), torch.nonzero(held_out).flatten()


# --- MNIST and Fashion-MNIST --------------------------------------------------------------------

def _known(name: str) -> str:
    if name not in DATASETS:
        raise DatasetError("unknown", f"unknown dataset {name!r}; known: {', '.join(DATASETS)}", name=name)
    return name


def _root(root) -> Path:
    return Path(root).expanduser() if root is not None else data_dir()


def _raw_present(name: str, root: Path) -> bool:
    folder = root / _TORCHVISION_CLASS[name] / "raw"
    return all((folder / f).is_file() for f in RAW_FILES)


def _one_line(err: BaseException, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", str(err)).strip()
    if isinstance(err, AssertionError) and not text:  # torchvision's header checks are bare asserts
        text = "not in MNIST's IDX format (bad header)"
    else:
        text = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _missing(name: str, root: Path, download_error: BaseException | None = None) -> DatasetError:
    folder = root / _TORCHVISION_CLASS[name] / "raw"
    absent = [f for f in RAW_FILES if not (folder / f).is_file()]
    if download_error is not None:
        problem = f"download failed ({_one_line(download_error)})"
    elif absent and all((folder / f"{f}.gz").is_file() for f in absent):
        problem = (f"only the compressed .gz files are in {folder}; torchvision needs them unpacked "
                   f"(gunzip them there)")
    else:
        problem = f"{', '.join(absent)} not found in {folder}"
    command = download_command(name)
    advice = (f"check the network, or put the four uncompressed IDX files in {folder}" if download_error
              else f"get it with: {command}")
    return DatasetError("missing", f"{name}: {problem}; {advice}",
                        name=name, command=command, problem=problem, folder=str(folder))


def _corrupt(name: str, problem: str) -> DatasetError:
    return DatasetError("corrupt", f"{name}: {problem}", name=name, problem=problem)


def _read_split(cls, name: str, root: Path, train: bool, download: bool):
    try:
        return cls(str(root), train=train, download=download)
    except _READ_ERRORS as err:
        if not _raw_present(name, root):  # judged by what is on disk, not by the message's wording
            raise _missing(name, root, err if download else None) from err
        folder = root / cls.__name__ / "raw"
        prefix = "train" if train else "t10k"
        problem = _diagnose(folder / f"{prefix}-images-idx3-ubyte", 2051) or _diagnose(
            folder / f"{prefix}-labels-idx1-ubyte", 2049)
        if problem is None:  # the headers look right: say what torchvision said
            problem = f"cannot read the {'train' if train else 'test'} files in {folder} ({_one_line(err)})"
        raise _corrupt(name, problem) from err


def _diagnose(path: Path, magic: int) -> str | None:
    """What is wrong with one IDX file, judged from its header and size; None if nothing is seen."""
    what = "image" if magic == 2051 else "label"
    header_size = 16 if magic == 2051 else 8
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header = fh.read(header_size)
    except OSError as err:
        return f"{path} cannot be read ({_one_line(err)})"
    if size == 0:
        return f"{path} is empty (0 bytes)"
    if len(header) < header_size or struct.unpack(">I", header[:4])[0] != magic:
        return f"{path} is not an MNIST {what} file (its first bytes are not the IDX header {magic})"
    dims = struct.unpack(f">{header_size // 4 - 1}I", header[4:])
    expected = header_size + math.prod(dims)
    if size != expected:
        promised = f"{dims[0]:,} images of {dims[1]}x{dims[2]}" if magic == 2051 else f"{dims[0]:,} labels"
        how = "truncated" if size < expected else "too long"
        return f"{path} is {how}: its header promises {promised} ({expected:,} bytes) but it has {size:,} bytes"
    return None


def _source(name: str, n_train: int, n_test: int, shape) -> str:
    what = ("MNIST, real handwritten digits" if name == "mnist"
            else "Fashion-MNIST, Zalando's real photos of clothing items")
    return f"{what}: {n_train:,} train + {n_test:,} test images, {shape[0]}x{shape[1]} pixels, grayscale"


def _image_set(name: str, tensors: dict) -> ImageSet:
    return ImageSet(name=name, **{k: tensors[k] for k in _CACHE_KEYS},
                    classes=FASHION_CLASSES if name == "fashion-mnist" else DIGIT_CLASSES,
                    source=_source(name, len(tensors["train_y"]), len(tensors["test_y"]),
                                   tuple(tensors["train_x"].shape[1:])))


def _write_cache(path: Path, name: str, tensors: dict) -> None:
    """torch.save to a temporary file beside `path`, then os.replace: never a half-written cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": CACHE_FORMAT, "name": name, **tensors}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared data folder needs it readable
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_cache(path: Path, name: str) -> ImageSet:
    """The cached set, DatasetError("corrupt") when its content is proven bad, or "unreadable" when the
    file could not be read at all (too many open files, a disk error...): that says nothing about it."""
    def unreadable(err: BaseException) -> DatasetError:
        problem = f"the cache file {path} cannot be read now ({_one_line(err)}); it is kept"
        return DatasetError("unreadable", f"{name}: {problem}", name=name, problem=problem)

    try:
        data = path.read_bytes()  # read first, so that a failure here is never taken for bad content
    except (OSError, MemoryError) as err:
        raise unreadable(err) from err
    try:
        # weights_only=True: tensors, dicts, numbers and strings only; any other object is refused.
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except MemoryError as err:
        raise unreadable(err) from err
    except Exception as err:  # noqa: BLE001 - the bytes are all here: any failure is in the content
        # torch's own message advises weights_only=False: never pass that advice on.
        if isinstance(err, pickle.UnpicklingError) and "global" in str(err).lower():
            why = "it holds Python objects other than tensors, refused without running them"
        else:
            why = f"not a readable cache file: {type(err).__name__}"
        raise _corrupt(name, f"the cache file {path} cannot be used ({why})") from err
    if (not isinstance(obj, dict) or obj.get("format") != CACHE_FORMAT or obj.get("name") != name
            or not all(isinstance(obj.get(k), torch.Tensor) for k in _CACHE_KEYS)):
        raise _corrupt(name, f"the cache file {path} does not hold the {name} tensors")
    tensors = {k: obj[k] for k in _CACHE_KEYS}
    _check_pair(tensors, name, 10)
    return _image_set(name, tensors)


def _prepare(name: str, root: Path, download: bool, must_cache: bool) -> ImageSet:
    import torchvision.datasets

    cls = getattr(torchvision.datasets, _TORCHVISION_CLASS[name])
    root.mkdir(parents=True, exist_ok=True)
    # torchvision prints "Downloading ..." and draws a progress bar; nnkit itself never prints.
    with contextlib.ExitStack() as quiet:
        if download:
            quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
            quiet.enter_context(contextlib.redirect_stderr(io.StringIO()))
        train = _read_split(cls, name, root, True, download)
    test = _read_split(cls, name, root, False, False)  # the download above fetched all four files
    tensors = {"train_x": train.data.contiguous(), "train_y": train.targets.contiguous(),
               "test_x": test.data.contiguous(), "test_y": test.targets.contiguous()}
    _check_pair(tensors, name, len(cls.classes))
    try:
        _write_cache(cache_path(name, root), name, tensors)
    except OSError:
        if must_cache:
            raise
        # load() on a read-only data folder: the data are fine, only the next load is slower.
    return _image_set(name, tensors)


def prepare(name: str, root: str | os.PathLike | None = None, download: bool = False) -> ImageSet:
    """Read `name` from its raw IDX files (downloading them first if asked), check it, cache it.

    Writes root/"nnkit-<name>.pt" (replacing any older cache). "digits" needs no preparing and
    returns load_digits(). Raises DatasetError: "unknown", "missing" (raw files absent, or the
    download failed) or "corrupt" (files that torchvision cannot read, or that fail validate()).
    OSError if the cache file cannot be written.
    """
    name = _known(name)
    if name == "digits":
        return load_digits()
    return _prepare(name, _root(root), download, must_cache=True)


def load(name: str, root: str | os.PathLike | None = None) -> ImageSet:
    """The dataset `name`, from the cache when there is one, else prepared from the raw files.

    A cache file whose content is bad (torch cannot load it, or it fails validate()) is deleted; it
    is then rebuilt from the raw files when they are there, else reported as DatasetError("corrupt").
    A file that cannot be read at all is kept and reported as DatasetError("unreadable"). Never
    downloads.
    """
    name = _known(name)
    if name == "digits":
        return load_digits()
    root = _root(root)
    cache = cache_path(name, root)
    if cache.is_file():
        try:
            return _read_cache(cache, name)
        except DatasetError as err:
            if err.code == "unreadable":  # nothing proves the file bad: never delete a good cache
                raise
            with contextlib.suppress(OSError):
                cache.unlink()
            if not _raw_present(name, root):
                command = download_command(name)
                problem = (f"{err.details['problem']} in the cache file {cache}, now removed; "
                           f"get the data again with: {command}")
                if "cache file" in err.details["problem"]:
                    problem = f"{err.details['problem']}, now removed; get the data again with: {command}"
                raise DatasetError("corrupt", f"{name}: {problem}", name=name, problem=problem,
                                   command=command) from err
    return _prepare(name, root, download=False, must_cache=False)
