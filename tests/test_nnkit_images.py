"""nnkit.datasets.images: real torchvision reads of small IDX files, the cache, every bad file, digits, CLI.

No network is used: MNIST-format files are written into tmp_path and read through torchvision's own
MNIST / FashionMNIST classes (download=False), exactly as the real 60,000-image files would be.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnkit.datasets import images as I
from nnkit.datasets.images import DatasetError, ImageSet

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
RAW_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
N_TRAIN, N_TEST = 100, 20


@pytest.fixture(autouse=True)
def _no_ambient_data_dir(monkeypatch, tmp_path):
    """No test may read or write the real ~/.cache/nnkit: every default points into tmp_path."""
    monkeypatch.setenv("NNKIT_DATA_DIR", str(tmp_path / "default-data-dir"))


# --- writing MNIST-format (IDX) files -----------------------------------------------------------

def idx_images(x: np.ndarray) -> bytes:
    n, h, w = x.shape
    return struct.pack(">IIII", 2051, n, h, w) + x.astype(np.uint8).tobytes()


def idx_labels(y: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(y)) + y.astype(np.uint8).tobytes()


def make_split(n: int, seed: int, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)
    y = rng.permutation(np.arange(n) % 10).astype(np.uint8)  # every class, in a scrambled order
    return x, y


def write_raw(root: Path, name: str = "mnist", n_train: int = N_TRAIN, n_test: int = N_TEST,
              seed: int = 0, gz_only: bool = False, **overrides: bytes) -> dict[str, np.ndarray]:
    """The four uncompressed IDX files in root/MNIST/raw/ (or FashionMNIST); returns what was written.

    `overrides` replace a file's bytes by name with '-' as '_', e.g. train_labels_idx1_ubyte=b"".
    """
    folder = root / RAW_FOLDER[name] / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    train_x, train_y = make_split(n_train, seed)
    test_x, test_y = make_split(n_test, seed + 1)
    files = {"train-images-idx3-ubyte": idx_images(train_x), "train-labels-idx1-ubyte": idx_labels(train_y),
             "t10k-images-idx3-ubyte": idx_images(test_x), "t10k-labels-idx1-ubyte": idx_labels(test_y)}
    for key, data in overrides.items():
        files[key.replace("_", "-")] = data
    for fname, data in files.items():
        if gz_only:
            (folder / f"{fname}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / fname).write_bytes(data)
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


def assert_matches(data: ImageSet, written: dict[str, np.ndarray], name: str = "mnist") -> None:
    assert isinstance(data, ImageSet) and data.name == name
    for key in ("train_x", "test_x"):
        tensor = getattr(data, key)
        assert tensor.dtype == torch.uint8 and tensor.dim() == 3
        np.testing.assert_array_equal(tensor.numpy(), written[key])
    for key in ("train_y", "test_y"):
        tensor = getattr(data, key)
        assert tensor.dtype == torch.int64 and tensor.dim() == 1
        np.testing.assert_array_equal(tensor.numpy(), written[key].astype(np.int64))
    assert data.shape == (28, 28) and data.input_size == 784 and data.n_classes == 10


def error_of(fn, *args, **kwargs) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        fn(*args, **kwargs)
    return info.value


class Evil:
    """Unpickling this opens (creates) a file: the classic pickle attack, harmless but visible."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


# --- good files, through torchvision ------------------------------------------------------------

@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_prepare_reads_the_idx_files_exactly_and_writes_one_cache_file(tmp_path, name):
    written = write_raw(tmp_path, name)
    data = I.prepare(name, root=tmp_path)
    assert_matches(data, written, name)
    assert len(data.train_y) == N_TRAIN and len(data.test_y) == N_TEST
    if name == "mnist":
        assert data.classes == tuple("0123456789")
    else:
        assert data.classes == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    assert "\n" not in data.source and f"{N_TRAIN:,} train + {N_TEST:,} test" in data.source
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [f"nnkit-{name}.pt"]  # no temp left
    assert I.state(name, tmp_path) == "cached"


def test_load_uses_nnkit_data_dir_then_the_cache_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("NNKIT_DATA_DIR", str(tmp_path))
    written = write_raw(tmp_path)
    assert I.state("mnist") == "raw"
    assert_matches(I.load("mnist"), written)
    cache = tmp_path / "nnkit-mnist.pt"
    assert cache.is_file()
    for f in (tmp_path / "MNIST" / "raw").iterdir():
        f.unlink()  # from now on only the cache can answer
    assert I.state("mnist") == "cached"
    assert_matches(I.load("mnist"), written)
    stored = torch.load(cache, weights_only=True)
    assert set(stored) == {"format", "name", "train_x", "train_y", "test_x", "test_y"}


def test_download_from_a_local_mirror_is_quiet_and_caches(tmp_path, capfd, monkeypatch):
    """download=True end to end without the internet: torchvision fetches .gz files from a local server."""
    import functools
    import hashlib
    import http.server
    import threading

    import torchvision.datasets

    served = tmp_path / "mirror"
    written = write_raw(served, gz_only=True)
    gz = sorted((served / "MNIST" / "raw").iterdir())
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the server's request log would go to stderr too
            pass

    handler = functools.partial(Quiet, directory=str(served / "MNIST" / "raw"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [f"http://127.0.0.1:{server.server_port}/"])
        monkeypatch.setattr(torchvision.datasets.MNIST, "resources",
                            [(f.name, hashlib.md5(f.read_bytes()).hexdigest()) for f in gz])
        root = tmp_path / "data"
        capfd.readouterr()
        data = I.prepare("mnist", root=root, download=True)
        out, err = capfd.readouterr()
    finally:
        server.shutdown()
        server.server_close()
    assert_matches(data, written)
    assert (out, err) == ("", "")  # torchvision's progress bars are not nnkit's output
    assert I.state("mnist", root) == "cached"


def test_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("NNKIT_DATA_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert I.data_dir() == tmp_path / "a"
    monkeypatch.delenv("NNKIT_DATA_DIR")
    assert I.data_dir() == tmp_path / "xdg" / "nnkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert I.data_dir() == tmp_path / "home" / ".cache" / "nnkit"


# --- missing and bad raw files ------------------------------------------------------------------

def test_missing_raw_files(tmp_path):
    err = error_of(I.load, "mnist", root=tmp_path)
    assert err.code == "missing"
    assert err.details["name"] == "mnist"
    assert err.details["command"] == "python -m nnkit data download mnist"
    assert "python -m nnkit data download mnist" in str(err)
    assert I.state("mnist", tmp_path) == "missing"
    assert not (tmp_path / "nnkit-mnist.pt").exists()


def test_gz_files_alone_are_missing_and_say_so(tmp_path):
    write_raw(tmp_path, "fashion-mnist", gz_only=True)
    err = error_of(I.prepare, "fashion-mnist", root=tmp_path)
    assert err.code == "missing" and err.details["name"] == "fashion-mnist"
    assert ".gz" in str(err)


def test_one_raw_file_missing_is_named(tmp_path):
    write_raw(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    err = error_of(I.load, "mnist", root=tmp_path)
    assert err.code == "missing" and "t10k-labels-idx1-ubyte" in str(err)


def _truncated_images() -> bytes:
    return idx_images(make_split(N_TRAIN, 0)[0])[: 16 + 784 * N_TRAIN // 2]


BAD_RAW = {
    "truncated image file": (dict(train_images_idx3_ubyte=_truncated_images()), "train-images-idx3-ubyte is truncated"),
    "zero-byte file": (dict(train_labels_idx1_ubyte=b""), "train-labels-idx1-ubyte is empty"),
    "random bytes": (dict(train_images_idx3_ubyte=np.random.default_rng(7).bytes(5000)), "not an MNIST image file"),
    "50 labels for 100 images": (dict(train_labels_idx1_ubyte=idx_labels(np.arange(50) % 10)),
                                 "100 images but 50 labels"),
    "a label 12": (dict(t10k_labels_idx1_ubyte=idx_labels(np.array([12] + [1] * (N_TEST - 1)))), "label 12"),
    "test images of another size": (dict(t10k_images_idx3_ubyte=idx_images(make_split(N_TEST, 1, size=20)[0])),
                                    "(20, 20)"),
}


@pytest.mark.parametrize("case", list(BAD_RAW))
def test_bad_raw_files_are_corrupt(tmp_path, case):
    overrides, words = BAD_RAW[case]
    write_raw(tmp_path, **overrides)
    for fn in (I.prepare, I.load):
        err = error_of(fn, "mnist", root=tmp_path)
        assert err.code == "corrupt", (case, err.code, str(err))
        assert err.details["name"] == "mnist"
        assert words in err.details["problem"], err.details["problem"]
        assert "\n" not in str(err)
    assert not any(tmp_path.glob("*.pt")) and not any(tmp_path.glob(".*tmp"))


# --- the cache file -----------------------------------------------------------------------------

def _garbage(path: Path, root: Path) -> None:
    path.write_bytes(np.random.default_rng(3).bytes(4096))


def _half_a_cache(path: Path, root: Path) -> None:
    """A real cache file, cut in the middle (as a crash mid-write without os.replace would leave)."""
    other = root / "other"
    write_raw(other)
    I.prepare("mnist", root=other)
    data = (other / "nnkit-mnist.pt").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_tensors(path: Path, root: Path) -> None:
    """A well-formed file whose tensors fail validate(): 100 images, 50 labels."""
    torch.save({"format": I.CACHE_FORMAT, "name": "mnist",
                "train_x": torch.zeros(100, 28, 28, dtype=torch.uint8), "train_y": torch.zeros(50, dtype=torch.int64),
                "test_x": torch.zeros(10, 28, 28, dtype=torch.uint8), "test_y": torch.zeros(10, dtype=torch.int64)},
               path)


def _end_cut_off(path: Path, root: Path) -> None:
    """A real cache file without its last bytes: torch.load(path) says OSError 'Invalid argument' here,
    an error that looks like one of the disk's but is the file's own."""
    _half_a_cache(path, root)
    path.write_bytes((root / "other" / "nnkit-mnist.pt").read_bytes()[:-10])


BAD_CACHE = {"garbage bytes": _garbage, "half a cache file": _half_a_cache, "wrong tensors": _wrong_tensors,
             "end cut off": _end_cut_off}


@pytest.mark.parametrize("case", list(BAD_CACHE))
def test_bad_cache_with_raw_files_is_rebuilt_transparently(tmp_path, case):
    written = write_raw(tmp_path)
    cache = tmp_path / "nnkit-mnist.pt"
    BAD_CACHE[case](cache, tmp_path)
    assert_matches(I.load("mnist", root=tmp_path), written)
    stored = torch.load(cache, weights_only=True)  # rebuilt: a readable, right cache again
    assert torch.equal(stored["train_x"], torch.from_numpy(written["train_x"]))


@pytest.mark.parametrize("case", list(BAD_CACHE))
def test_bad_cache_without_raw_files_is_corrupt_then_removed(tmp_path, case):
    cache = tmp_path / "nnkit-mnist.pt"
    BAD_CACHE[case](cache, tmp_path)
    err = error_of(I.load, "mnist", root=tmp_path)
    assert err.code == "corrupt" and err.details["name"] == "mnist"
    assert "cache" in err.details["problem"] or "labels" in err.details["problem"]
    assert "python -m nnkit data download mnist" in str(err)
    assert not cache.exists()
    assert error_of(I.load, "mnist", root=tmp_path).code == "missing"  # the next try says what to do


@pytest.mark.parametrize("raw_files", [True, False], ids=["with raw files", "cache only"])
def test_a_cache_that_cannot_be_read_now_is_kept_and_the_error_named(tmp_path, monkeypatch, raw_files):
    """Too many open files (or a disk error) says nothing about the file: it must survive."""
    import builtins
    import errno
    import io
    import shutil

    written = write_raw(tmp_path)
    I.prepare("mnist", root=tmp_path)
    if not raw_files:
        shutil.rmtree(tmp_path / "MNIST")
    cache = tmp_path / "nnkit-mnist.pt"
    good = cache.read_bytes()
    real_open = builtins.open

    def too_many_open_files(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file) == cache:
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", too_many_open_files)  # torch.load(path) opens with this one
    monkeypatch.setattr(io, "open", too_many_open_files)  # Path.read_bytes with this one
    err = error_of(I.load, "mnist", root=tmp_path)
    monkeypatch.undo()
    assert err.code == "unreadable" and err.details["name"] == "mnist"
    assert "Too many open files" in err.details["problem"] and "kept" in err.details["problem"]
    assert cache.read_bytes() == good
    assert_matches(I.load("mnist", root=tmp_path), written)  # the next try reads it


@pytest.mark.parametrize("how", ["pickle.dump", "torch.save"])
def test_malicious_cache_is_rejected_without_running_it(tmp_path, how):
    pwned, control = tmp_path / "pwned", tmp_path / "control"
    pickle.loads(pickle.dumps(Evil(control)))
    assert control.exists()  # the payload is live: unpickling it unsafely does create its file
    cache = tmp_path / "nnkit-mnist.pt"
    if how == "pickle.dump":
        cache.write_bytes(pickle.dumps(Evil(pwned), protocol=2))
    else:
        torch.save({"train_x": Evil(pwned)}, cache)
    err = error_of(I.load, "mnist", root=tmp_path)
    assert err.code == "corrupt" and "refused" in str(err)
    assert "weights_only" not in str(err)  # torch's advice to load it unsafely is not passed on
    assert not pwned.exists()
    written = write_raw(tmp_path)  # with raw files the same file is replaced, still never run
    torch.save({"train_x": Evil(pwned)}, cache)
    assert_matches(I.load("mnist", root=tmp_path), written)
    assert not pwned.exists()


def test_a_failed_cache_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    write_raw(tmp_path)
    cache = tmp_path / "nnkit-mnist.pt"
    real_save = torch.save

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        I.prepare("mnist", root=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MNIST"]  # neither cache nor temp file
    written = write_raw(tmp_path)
    assert_matches(I.load("mnist", root=tmp_path), written)  # load() still serves the data

    monkeypatch.setattr(torch, "save", real_save)
    I.prepare("mnist", root=tmp_path)
    good = cache.read_bytes()
    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        I.prepare("mnist", root=tmp_path)
    assert cache.read_bytes() == good  # the old cache is replaced only by a complete new one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MNIST", "nnkit-mnist.pt"]


# --- validate, unknown names --------------------------------------------------------------------

GOOD_X, GOOD_Y = torch.zeros(4, 3, 3, dtype=torch.uint8), torch.tensor([0, 1, 2, 9])


@pytest.mark.parametrize("x, y, words", [
    (GOOD_X.float(), GOOD_Y, "uint8"),
    (GOOD_X[0], GOOD_Y, "3-D"),
    (GOOD_X, GOOD_Y.int(), "int64"),
    (GOOD_X[:0], GOOD_Y[:0], "no images"),
    (GOOD_X, GOOD_Y[:3], "4 images but 3 labels"),
    (GOOD_X, torch.tensor([0, 1, 10, 2]), "label 10"),
    (GOOD_X, torch.tensor([0, -1, 1, 2]), "label -1"),
])
def test_validate_names_each_problem(x, y, words):
    err = error_of(I.validate, x, y, "mnist")
    assert err.code == "corrupt" and err.details["name"] == "mnist"
    assert words in err.details["problem"]


def test_validate_accepts_good_tensors_and_honours_n_classes():
    I.validate(GOOD_X, GOOD_Y, "mnist")
    assert error_of(I.validate, GOOD_X, GOOD_Y, "mnist", n_classes=5).code == "corrupt"


@pytest.mark.parametrize("fn", [I.load, I.prepare, I.state])
def test_unknown_name(fn, tmp_path):
    err = error_of(fn, "cifar", tmp_path)
    assert err.code == "unknown" and err.details == {"name": "cifar"}


# --- scikit-learn's digits ----------------------------------------------------------------------

def _positions(part: np.ndarray, whole: np.ndarray) -> list[int]:
    """Where the rows of `part` occur in `whole`, in order (a greedy subsequence match); [] if they don't."""
    found = []
    for j, row in enumerate(whole):
        if len(found) < len(part) and np.array_equal(part[len(found)], row):
            found.append(j)
    return found if len(found) == len(part) else []


def test_load_digits():
    from sklearn.datasets import load_digits as sklearn_digits

    data = I.load_digits()
    assert data.name == "digits" and data.shape == (8, 8) and data.input_size == 64 and data.n_classes == 10
    assert data.classes == tuple("0123456789") and "1,797" in data.source and "8x8" in data.source
    assert len(data.train_y) + len(data.test_y) == 1797
    assert 355 <= len(data.test_y) <= 365  # 20 %
    assert data.train_x.dtype == data.test_x.dtype == torch.uint8
    assert data.train_y.dtype == data.test_y.dtype == torch.int64
    assert int(data.train_x.max()) == 255 and int(data.train_x.min()) == 0
    for split in (data.train_y, data.test_y):
        counts = torch.bincount(split, minlength=10)
        assert (counts > 0).all() and len(counts) == 10
    for digit in range(10):  # stratified: each class split about 80/20
        n_test, n = int((data.test_y == digit).sum()), int((data.train_y == digit).sum() + (data.test_y == digit).sum())
        assert abs(n_test - 0.2 * n) <= 1
    again = I.load_digits()
    for key in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(data, key), getattr(again, key))  # the same split on every call
    bunch = sklearn_digits()
    scaled = np.floor(bunch.images * 255 / 16 + 0.5).astype(np.uint8)
    assert sorted(np.unique(scaled)) == sorted(np.unique(np.concatenate([data.train_x.numpy().ravel(),
                                                                          data.test_x.numpy().ravel()])))
    assert {0: 0, 1: 16, 8: 128, 16: 255} == {v: int(np.floor(v * 255 / 16 + 0.5)) for v in (0, 1, 8, 16)}
    # Original order kept in both splits (the test set is never shuffled), labels with their images.
    both = np.concatenate([scaled.reshape(1797, -1), bunch.target[:, None].astype(np.uint8)], axis=1)
    positions = {}
    for split, xs, ys in (("train", data.train_x, data.train_y), ("test", data.test_x, data.test_y)):
        part = np.concatenate([xs.numpy().reshape(len(ys), -1), ys.numpy()[:, None].astype(np.uint8)], axis=1)
        positions[split] = _positions(part, both)
        assert positions[split], f"the {split} images are not in the original order"
    for digit in range(10):  # a random draw within each class, not simply its first or last 20 %
        test_at = [p for p in positions["test"] if bunch.target[p] == digit]
        class_at = np.flatnonzero(bunch.target == digit)
        assert min(test_at) < class_at[len(class_at) // 3] and max(test_at) > class_at[2 * len(class_at) // 3]
    assert I.load("digits").test_y.tolist() == data.test_y.tolist()


def test_the_digits_load_without_importing_scikit_learn():
    """A server holds scikit-learn and SciPy (130 MB) for nothing but this table: nnkit reads the
    file scikit-learn ships instead, with exactly what load_digits() gives (test_load_digits)."""
    from sklearn.datasets import load_digits as sklearn_digits

    images, target = I._sklearn_digits()
    bunch = sklearn_digits()
    assert np.array_equal(images, bunch.images) and np.array_equal(target, bunch.target)
    code = ("import sys; from nnkit.datasets.images import load; load('digits'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- command line -------------------------------------------------------------------------------

# torchvision's mirrors pointed at a closed local port: the "no network" case, instant and the same
# on every machine (a real offline download fails the same way: "Error downloading ...").
OFFLINE = ("import sys, torchvision.datasets as d; d.MNIST.mirrors = d.FashionMNIST.mirrors = "
           "['http://127.0.0.1:9/']; from nnkit.__main__ import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    dirs = {name: tmp_path_factory.mktemp(name) for name in ("status", "bogus", "offline", "ok", "mixed")}
    write_raw(dirs["status"], "mnist")
    I.prepare("mnist", root=dirs["status"])  # mnist cached
    write_raw(dirs["status"], "fashion-mnist")  # fashion-mnist raw only
    write_raw(dirs["ok"], "mnist")
    write_raw(dirs["mixed"], "mnist")
    commands = {
        "status": ["-m", "nnkit", "data", "status"],
        "bogus": ["-m", "nnkit", "data", "download", "bogus"],
        "offline": ["-c", OFFLINE, "data", "download", "mnist"],
        "ok": ["-m", "nnkit", "data", "download", "digits", "mnist"],
        "mixed": ["-c", OFFLINE, "data", "download", "mnist", "fashion-mnist"],
    }
    procs = {}
    for name, args in commands.items():
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XDG_CACHE_HOME")}
        env.update(OMP_NUM_THREADS="1", NNKIT_DATA_DIR=str(dirs[name]))
        procs[name] = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = {}
    try:
        for name, proc in procs.items():
            try:
                out, err = proc.communicate(timeout=TIMEOUT)
                done[name] = (subprocess.CompletedProcess(proc.args, proc.returncode, out, err), dirs[name])
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                done[name] = (subprocess.CompletedProcess(proc.args, None, out, err), dirs[name])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


def result(cli, name) -> tuple[subprocess.CompletedProcess, Path]:
    """The command's result; a command that hangs fails its test (every mirror here is a closed local
    port, which refuses at once: waiting on it is a bug, not the network's fault)."""
    r, folder = cli[name]
    if r.returncode is None:
        pytest.fail(f"`{name}` did not finish in {TIMEOUT} s; stdout: {r.stdout!r}; stderr: {r.stderr!r}")
    return r, folder


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("nnkit: ")
    return lines[0]


def test_cli_status(cli):
    r, folder = result(cli, "status")
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert list(lines) == ["digits", "mnist", "fashion-mnist"]
    assert "ready" in lines["digits"]
    assert "cached" in lines["mnist"] and str(folder / "nnkit-mnist.pt") in lines["mnist"]
    assert "raw files present" in lines["fashion-mnist"]
    assert str(folder / "FashionMNIST" / "raw") in lines["fashion-mnist"]


def test_cli_download_unknown_name(cli):
    r, _ = result(cli, "bogus")
    line = one_error_line(r)
    assert "unknown dataset" in line and "bogus" in line and "mnist" in line
    assert r.stdout == ""


def test_cli_download_without_network(cli):
    r, folder = result(cli, "offline")
    line = one_error_line(r)
    assert "mnist" in line and "download failed" in line
    assert r.stdout == ""  # torchvision's own "Downloading ..." chatter is kept out
    assert not (folder / "nnkit-mnist.pt").exists()


def test_cli_download_with_raw_files_present_caches_them(cli):
    r, folder = result(cli, "ok")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("digits: ") and " train + " in lines[0] and "8x8" in lines[0]
    assert lines[1].startswith(f"mnist: {N_TRAIN:,} train + {N_TEST:,} test images, 28x28, 10 classes")
    assert (folder / "nnkit-mnist.pt").is_file()


def test_cli_download_reports_each_dataset_and_fails_if_one_fails(cli):
    r, folder = result(cli, "mixed")
    line = one_error_line(r)
    assert line.startswith("nnkit: fashion-mnist:") and "download failed" in line
    assert r.stdout.strip().splitlines() == [r.stdout.strip()] and r.stdout.startswith("mnist: ")
    assert (folder / "nnkit-mnist.pt").is_file() and not (folder / "nnkit-fashion-mnist.pt").exists()
