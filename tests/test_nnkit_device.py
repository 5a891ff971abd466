"""nnkit.device: which device is picked, why, and seeding."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from nnkit import device as nnkit_device
from nnkit.device import ENV_VAR, DeviceChoice, pick_device, seed_everything


@pytest.fixture
def machine(monkeypatch):
    """Make availability deterministic: `machine(cuda=..., mps=...)`; no NNKIT_DEVICE set."""
    monkeypatch.delenv(ENV_VAR, raising=False)

    def configure(cuda: bool, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return configure


def test_env_cpu_gives_cpu(machine, monkeypatch):
    machine(cuda=True, mps=True)
    monkeypatch.setenv(ENV_VAR, "cpu")
    choice = pick_device()
    assert choice.name == "cpu"
    assert choice.requested == "cpu"
    assert choice.device == torch.device("cpu")
    assert "not available" not in choice.reason


def test_env_cuda_without_cuda_falls_back_to_cpu(machine, monkeypatch):
    machine(cuda=False)
    monkeypatch.setenv(ENV_VAR, "cuda")
    choice = pick_device()
    assert choice.name == "cpu"
    assert choice.requested == "cuda"
    assert "not available" in choice.reason
    assert "cuda" in choice.reason


def test_env_cuda_with_cuda_gives_cuda(machine, monkeypatch):
    machine(cuda=True)
    monkeypatch.setenv(ENV_VAR, "cuda")
    choice = pick_device()
    assert choice.name == "cuda"
    assert choice.requested == "cuda"
    assert "not available" not in choice.reason
    assert choice.device == torch.device("cuda")  # constructing a device needs no GPU


def test_request_is_case_and_space_insensitive(machine, monkeypatch):
    machine(cuda=True)
    monkeypatch.setenv(ENV_VAR, " CUDA ")
    assert pick_device().name == "cuda"


def test_env_mps_without_mps_falls_back_to_cpu(machine, monkeypatch):
    machine(cuda=True, mps=False)
    monkeypatch.setenv(ENV_VAR, "mps")
    choice = pick_device()
    assert choice.name == "cpu"  # not cuda: the fallback is always cpu
    assert "not available" in choice.reason


@pytest.mark.parametrize("cuda", [True, False])
def test_unknown_device_falls_back_to_cpu(machine, monkeypatch, cuda):
    machine(cuda=cuda)
    monkeypatch.setenv(ENV_VAR, "tpu")
    choice = pick_device()
    assert choice.name == "cpu"
    assert choice.requested == "tpu"
    assert "unknown" in choice.reason
    assert "tpu" in choice.reason


def test_no_request_prefers_cuda_then_mps_then_cpu(machine):
    machine(cuda=True, mps=True)
    choice = pick_device()
    assert choice.name == "cuda" and choice.requested is None
    machine(cuda=False, mps=True)
    assert pick_device().name == "mps"
    machine(cuda=False, mps=False)
    choice = pick_device()
    assert choice.name == "cpu" and choice.requested is None


def test_empty_env_var_means_no_request(machine, monkeypatch):
    machine(cuda=True)
    monkeypatch.setenv(ENV_VAR, "")
    choice = pick_device()
    assert choice.name == "cuda" and choice.requested is None


def test_argument_overrides_env_var(machine, monkeypatch):
    machine(cuda=True)
    monkeypatch.setenv(ENV_VAR, "cuda")
    assert pick_device("cpu").name == "cpu"
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert pick_device("cuda").name == "cuda"


def test_pick_device_never_raises_and_returns_a_usable_device(monkeypatch):
    """Unpatched: whatever this machine has, the choice is real and tensors can live there."""
    for value in ("cuda", "mps", "cpu", "tpu", "", "  "):
        monkeypatch.setenv(ENV_VAR, value)
        choice = pick_device()
        assert isinstance(choice, DeviceChoice)
        assert choice.name in nnkit_device.KNOWN
        assert choice.reason
        if choice.name == "cpu" or (choice.name == "cuda" and torch.cuda.is_available()):
            assert torch.zeros(2, device=choice.device).sum().item() == 0.0


def test_device_choice_is_frozen():
    choice = DeviceChoice("cpu", None, "cpu")
    with pytest.raises(Exception):
        choice.name = "cuda"  # type: ignore[misc]


def test_seed_everything_repeats_torch_numpy_and_python():
    seed_everything(1234)
    a = (torch.randn(5), np.random.rand(5), random.random(), torch.randint(0, 1000, (3,)))
    seed_everything(1234)
    b = (torch.randn(5), np.random.rand(5), random.random(), torch.randint(0, 1000, (3,)))
    assert torch.equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]
    assert torch.equal(a[3], b[3])
    seed_everything(4321)
    c = (torch.randn(5), np.random.rand(5), random.random())
    assert not torch.equal(a[0], c[0])
    assert not np.array_equal(a[1], c[1])
    assert a[2] != c[2]


def test_seed_everything_accepts_seeds_beyond_32_bits():
    seed_everything(2**40 + 7)
    a = np.random.rand(3)
    seed_everything(2**40 + 7)
    np.testing.assert_array_equal(a, np.random.rand(3))


@pytest.mark.parametrize("cores, cap, threads", [(8, None, 4), (8, "3", 2), (2, None, 1), (2, "4", 1), (1, "1", 1),
                                                 (8, "banana", 4)])
def test_threads_default_to_the_cores_shared_out_among_the_trainings(monkeypatch, cores, cap, threads):
    """An 8-core laptop trains on 4 threads (two trainings at once by default), not on one core."""
    monkeypatch.delenv(nnkit_device.THREADS_VAR, raising=False)
    monkeypatch.setattr(nnkit_device, "cpu_cores", lambda: cores)
    if cap is None:
        monkeypatch.delenv(nnkit_device.TRAININGS_VAR, raising=False)
    else:
        monkeypatch.setenv(nnkit_device.TRAININGS_VAR, cap)
    assert nnkit_device.configure_threads() == threads
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("value, threads", [("3", 3), ("0", 1), ("lots", 4)])
def test_nnkit_threads_overrides_the_default(monkeypatch, value, threads):
    monkeypatch.delenv(nnkit_device.TRAININGS_VAR, raising=False)
    monkeypatch.setattr(nnkit_device, "cpu_cores", lambda: 8)
    monkeypatch.setenv(nnkit_device.THREADS_VAR, value)
    assert nnkit_device.configure_threads() == threads
    assert torch.get_num_threads() == threads


def test_cpu_cores_counts_what_this_process_may_use():
    assert 1 <= nnkit_device.cpu_cores() <= os.cpu_count()
