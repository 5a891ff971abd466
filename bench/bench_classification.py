"""Speed of classification training, as ratios against references run side by side in this process.

1. One epoch of 60,000 synthetic 28x28 samples, 784-256-10 MLP, Adam, batch 64, three ways, in
   ROUNDS alternating rounds: a bare `randperm`-and-slice loop with torch's default Adam, nnkit's
   `fit` with nnkit's optimizer (the fused kernel), and the textbook torchvision pipeline, a PIL
   image per sample + `ToTensor()` + `DataLoader`. Targets, on the median of the rounds' ratios:
   fit >= 1.10x the bare loop and >= 2.5x the textbook pipeline. The bare loop on the fused kernel
   is timed too: fit against it is the loop's own overhead.
2. The same epoch through `fit` on 1 and on 2 torch threads (NNKIT_THREADS), alternated.
3. Loading a cached MNIST-size dataset again from a new process (target: under 1 s).

torch runs the server's threads per operation (nnkit.device.configure_threads) except in part 2;
set NNKIT_THREADS to measure another setting. Writes bench/results/classification.json.
"""

from __future__ import annotations

import os
import statistics
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
from nnkit.optim import make_optimizer
from nnkit.train import fit

N, BATCH, ROUNDS = 60_000, 64, 5


def model_and_optimizer(device, kernel: str = "default"):
    """The model, with torch's default Adam (what a textbook writes) or nnkit's ("nnkit")."""
    torch.manual_seed(0)
    model = DigitNet(784, (256,), 10).to(device)
    if kernel == "nnkit":
        return model, make_optimizer("adam", model.parameters(), 1e-3)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def bare(x, y, device, kernel: str = "default") -> float:
    model, opt = model_and_optimizer(device, kernel)
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
    model, opt = model_and_optimizer(device, "nnkit")
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


def synthetic(device):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, N).astype(np.int64)
    return images, labels, torch.from_numpy(images).to(device).float().div_(255), torch.from_numpy(labels).to(device)


def pipelines() -> dict:
    device = pick_device().device
    images, labels, x, y = synthetic(device)
    bare(x, y, device)  # warm-up
    runs = {"bare": [], "bare_fused": [], "fit": [], "textbook": []}
    for _ in range(ROUNDS):  # alternate, so drift in the machine's speed hits each alike
        runs["bare"].append(bare(x, y, device))
        runs["fit"].append(with_fit(x, y, device))
        runs["bare_fused"].append(bare(x, y, device, "nnkit"))
        runs["textbook"].append(textbook(images, labels, device))
    ratios = {name: [f / r for f, r in zip(runs["fit"], runs[name])] for name in ("bare", "bare_fused", "textbook")}
    median = {name: statistics.median(values) for name, values in ratios.items()}
    return {"device": device.type, "threads": torch.get_num_threads(), "rounds": ROUNDS,
            "samples_per_s": {name: [round(v) for v in values] for name, values in runs.items()},
            "fit_vs_bare": [round(v, 3) for v in ratios["bare"]],
            "fit_vs_textbook": [round(v, 3) for v in ratios["textbook"]],
            "fit_vs_bare_fused": [round(v, 3) for v in ratios["bare_fused"]],
            "median_fit_vs_bare": median["bare"], "median_fit_vs_textbook": median["textbook"],
            "median_fit_vs_bare_fused": median["bare_fused"], "fit_epoch_s": N / statistics.median(runs["fit"]),
            "targets": {"fit_vs_bare": 1.10, "fit_vs_textbook": 2.5},
            "ok": median["bare"] >= 1.10 and median["textbook"] >= 2.5}


def threads() -> dict:
    """One epoch through `fit` on 1 and 2 torch threads per operation: what NNKIT_THREADS buys."""
    device = pick_device().device
    _, _, x, y = synthetic(device)
    before = torch.get_num_threads()
    runs = {1: [], 2: []}
    for _ in range(3):
        for n in runs:
            torch.set_num_threads(n)
            runs[n].append(with_fit(x, y, device))
    torch.set_num_threads(before)
    ratios = [two / one for one, two in zip(runs[1], runs[2])]
    return {"cores": os.cpu_count(), "samples_per_s": {str(n): [round(v) for v in r] for n, r in runs.items()},
            "two_vs_one": [round(v, 3) for v in ratios], "median_two_vs_one": statistics.median(ratios)}


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
    results = {"load_average": os.getloadavg(), "pipelines": pipelines(), "threads": threads(),
               "cached_load": cached_load()}
    save("classification", results)
