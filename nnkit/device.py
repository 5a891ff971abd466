"""Device choice and seeding: the one place that decides where tensors live."""

from __future__ import annotations

import os
import random
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
            return DeviceChoice("cpu", requested, f"unknown device {requested!r} requested; using cpu")
        if _available(req):
            return DeviceChoice(req, requested, f"{req} requested")
        return DeviceChoice("cpu", requested, f"{req} requested but not available; using cpu")
    for name in KNOWN:
        if _available(name):
            return DeviceChoice(name, None, f"{name} is the best available device")
    return DeviceChoice("cpu", None, "cpu")  # unreachable: cpu is always available


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
