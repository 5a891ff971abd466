"""Device choice and seeding: the one place that decides where tensors live."""

from __future__ import annotations

import os
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

ENV_VAR = "NNKIT_DEVICE"
KNOWN = ("cuda", "mps", "cpu")


@dataclass(frozen=True)
class DeviceChoice:
    """The device in use and, when it is not the one asked for, why."""

    name: str  # "cuda", "mps" or "cpu"
    requested: str | None  # what NNKIT_DEVICE (or the caller) asked for, if anything
    reason: str  # one line a person can read
    code: str = "best"  # "best", "requested", "unknown" or "unavailable": for translated messages

    @property
    def device(self) -> torch.device:
        return torch.device(self.name)


def _available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        return bool(mps and mps.is_available())
    return name == "cpu"


def pick_device(requested: str | None = None) -> DeviceChoice:
    """cuda, then mps, then cpu; `requested` (or $NNKIT_DEVICE) overrides.

    An unknown or unavailable request falls back to cpu with the reason, never raises: a server
    started with NNKIT_DEVICE=cuda on a machine without a GPU still serves.
    """
    requested = requested or os.environ.get(ENV_VAR) or None
    if requested:
        req = requested.strip().lower()
        if req not in KNOWN:
            return DeviceChoice("cpu", requested, f"unknown device {requested!r} requested; using cpu", "unknown")
        if _available(req):
            return DeviceChoice(req, requested, f"{req} requested", "requested")
        return DeviceChoice("cpu", requested, f"{req} requested but not available; using cpu", "unavailable")
    for name in KNOWN:
        if _available(name):
            return DeviceChoice(name, None, f"{name} is the best available device")
    return DeviceChoice("cpu", None, "cpu")  # unreachable: cpu is always available


_SEED_LOCK = threading.Lock()


@contextmanager
def seeded(seed: int | None):
    """Seed torch's global generator (unless seed is None) and hold it for the block.

    A server runs every visitor's script in its own thread, all sharing torch's one global
    generator: without the lock another visitor's model could draw numbers between our
    manual_seed and our layers' initialisation, and the same seed would give other weights.
    Code that builds layers without caring for their initial values (they are overwritten)
    still takes the lock with seed=None, so that it never draws in the middle of someone else's.
    """
    with _SEED_LOCK:
        if seed is not None:
            torch.manual_seed(seed)
        yield


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


THREADS_VAR = "NNKIT_THREADS"
TRAININGS_VAR = "NNKIT_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 2  # for a small server: each job takes a CPU core or a GPU's attention


def max_trainings() -> int:
    """How many heavy jobs (trainings and slow page results) a server computes at once
    ($NNKIT_MAX_TRAININGS, else 2)."""
    try:
        return max(1, int(os.environ.get(TRAININGS_VAR, DEFAULT_MAX_TRAININGS)))
    except ValueError:
        return DEFAULT_MAX_TRAININGS


def cpu_cores() -> int:
    """The cores this process may run on: a container's CPU set, not the host's count."""
    if hasattr(os, "sched_getaffinity"):  # Linux
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def configure_threads() -> int:
    """Set torch's CPU threads per operation and return the number: $NNKIT_THREADS, else the cores
    shared out among the trainings the server runs at once (cores // max_trainings(), at least 1).

    A server trains several small models at once (one per visitor, up to its cap) and runs the
    page's own work beside them. Several operations each spreading over every core then fight for
    the cores and can run 50 times slower (measured on 2 cores: 5 epochs on the bundled digits took
    18 s instead of 0.3 s under load). Giving each training its share of the cores keeps them apart
    and still uses an 8-core laptop's cores for one visitor's MNIST epoch (bench_classification.py
    measures what a second thread buys).
    """
    default = max(1, cpu_cores() // max_trainings())
    try:
        threads = max(1, int(os.environ.get(THREADS_VAR, default)))
    except ValueError:
        threads = default
    torch.set_num_threads(threads)
    return threads
