"""The optimizers nnkit trains with: torch.optim.Adam or SGD, on torch's fused kernel where it can.

A default (for-loop) Adam step runs about ten small operations per parameter tensor, each one a
pass over the weights; the fused kernel does the whole update in one pass. On this kind of CPU a
784-256-10 MLP then trains 1.15-1.35x faster (bench/bench_classification.py). The fused and the
default kernels compute the same formula, in a different order of float operations: results agree
to float rounding (tests/test_nnkit_optim.py), and the exported scripts write the same optimizer.
"""

from __future__ import annotations

import torch

# Where torch (2.4 and later) has fused Adam and SGD kernels for floating-point parameters.
FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu")
OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
KERNEL_CHOICES = ("fused", "foreach")  # settings of how torch computes a step, not of what it computes


def can_fuse(params: list[torch.Tensor]) -> bool:
    return bool(params) and all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in params)


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """torch.optim.Adam (name "adam") or SGD ("sgd") over `params`, fused where the device allows."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}")
    params = list(params)
    # None, not False, elsewhere: False would also turn off the foreach kernels torch picks on a GPU
    optimizer = OPTIMIZERS[name](params, lr=lr, fused=True if can_fuse(params) else None)
    optimizer.register_load_state_dict_pre_hook(_keep_kernel)
    return optimizer


def _keep_kernel(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    """Loading a state_dict copies its param_groups, kernel choice included: a checkpoint written
    by an unfused optimizer (an older file, another machine) would make this one unfused. Keep the
    kernel this optimizer was built with; the file brings only the state (moments, steps) and the
    hyperparameters. torch then places each `step` where that kernel wants it."""
    own = optimizer.param_groups
    groups = [{**saved, **{k: own[i].get(k) for k in KERNEL_CHOICES}} if i < len(own) else saved
              for i, saved in enumerate(state_dict["param_groups"])]  # a count that differs still fails in torch
    return {**state_dict, "param_groups": groups}
