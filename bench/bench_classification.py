"""Speed of classification training, as ratios against references run side by side in this process.

1. One epoch of 60,000 synthetic 28x28 samples, 784-256-10 MLP, Adam, batch 64, three ways:
   a bare `randperm`-and-slice loop (the floor), nnkit's `fit` (target: >= 0.95x the bare loop's
   samples/s) and the textbook torchvision pipeline, a PIL image per sample + `ToTensor()` +
   `DataLoader` (target: fit >= 2.5x it).
2. Loading a cached MNIST-size dataset again from a new process (target: under 1 s).

torch runs one thread per operation, as the server does (nnkit.device.configure_threads); set
NNKIT_THREADS to measure another setting. Writes bench/results/classification.json.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import ROOT, save, server_threads
from torch import nn

from nnkit.classify import DigitNet
from nnkit.device import pick_device
from nnkit.train import fit

N, BATCH = 60_000, 64


def model_and_optimizer(device):
    torch.manual_seed(0)
    model = DigitNet(784, (256,), 10).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def bare(x, y, device) -> float:
    model, opt = model_and_optimizer(device)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    order = torch.randperm(N, generator=torch.Generator().manual_seed(0)).to(device)
    for i in range(0, N, BATCH):
        idx = order[i:i + BATCH]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return N / (time.perf_counter() - t0)


def with_fit(x, y, device) -> float:
    model, opt = model_and_optimizer(device)
    t0 = time.perf_counter()
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, batch_size=BATCH, shuffle_seed=0)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return N / (time.perf_counter() - t0)


def textbook(images: np.ndarray, labels: np.ndarray, device) -> float:
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision.transforms import ToTensor

    class Digits(Dataset):  # what torchvision.datasets.MNIST does per sample
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            return ToTensor()(Image.fromarray(images[i], mode="L")), int(labels[i])

    model, opt = model_and_optimizer(device)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for xb, yb in DataLoader(Digits(), batch_size=BATCH, shuffle=True, num_workers=0):
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return N / (time.perf_counter() - t0)


def pipelines() -> dict:
    device = pick_device().device
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, N).astype(np.int64)
    x = torch.from_numpy(images).to(device).float().div_(255)
    y = torch.from_numpy(labels).to(device)
    bare(x, y, device)  # warm-up
    bare_runs, fit_runs = [], []
    for _ in range(2):  # alternate, so drift in the machine's speed hits both alike
        bare_runs.append(bare(x, y, device))
        fit_runs.append(with_fit(x, y, device))
    book = textbook(images, labels, device)
    best_bare, best_fit = max(bare_runs), max(fit_runs)
    return {"device": device.type, "threads": torch.get_num_threads(), "bare_samples_per_s": best_bare,
            "fit_samples_per_s": best_fit, "textbook_samples_per_s": book, "fit_vs_bare": best_fit / best_bare,
            "fit_vs_textbook": best_fit / book, "fit_epoch_s": N / best_fit,
            "ok": best_fit >= 0.95 * best_bare and best_fit >= 2.5 * book}


def idx(path: Path, magic: int, shape: tuple, data: np.ndarray) -> None:
    path.write_bytes(struct.pack(">" + "I" * (1 + len(shape)), magic, *shape) + data.tobytes())


def cached_load() -> dict:
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        rng = np.random.default_rng(0)
        for prefix, n in (("train", 60_000), ("t10k", 10_000)):
            idx(raw / f"{prefix}-images-idx3-ubyte", 2051, (n, 28, 28), rng.integers(0, 256, (n, 28, 28), np.uint8))
            idx(raw / f"{prefix}-labels-idx1-ubyte", 2049, (n,), rng.integers(0, 10, n).astype(np.uint8))
        # torch's own import (1-3 s) is the same for any server start; what is timed is load()
        code = ("import time; from nnkit.datasets.images import load; t0 = time.perf_counter(); "
                f"d = load('mnist', root={root!r}); print(time.perf_counter() - t0, len(d.train_y), len(d.test_y))")
        times = []
        for _ in range(3):  # the first prepares the cache from the IDX files; the next ones read it
            out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
            times.append(float(out.stdout.split()[0]))
    return {"first_prepare_s": times[0], "second_load_s": min(times[1:]), "target_s": 1.0, "ok": min(times[1:]) < 1.0}


if __name__ == "__main__":
    server_threads()
    results = {"pipelines": pipelines(), "cached_load": cached_load()}
    save("classification", results)
