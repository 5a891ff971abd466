"""The optimizers nnkit trains with, made by one factory, on torch's fused kernel where it can.

- `make_optimizer(name, params, lr, *, weight_decay=0.0, momentum=0.0, nesterov=False, eps, betas,
  alpha, rho)`: the
  torch.optim class named in OPTIMIZERS ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
  over `params` (tensors or param-group dicts), fused where torch has the kernel and the device allows.
- `can_fuse(params)`: whether torch's fused kernel can update these tensors.

A default (for-loop) Adam step runs about ten small operations per parameter tensor, each one a
pass over the weights; the fused kernel does the whole update in one pass. On this kind of CPU a
784-256-10 MLP then trains 1.15-1.35x faster (bench/bench_classification.py). The fused and the
default kernels compute the same formula, in a different order of float operations: results agree
to float rounding (tests/test_nnkit_optim.py), and the exported scripts write the same optimizer.

`weight_decay` is torch's own: SGD, Adam, RMSprop, Adagrad and Adadelta add weight_decay * w to the
gradient (the same as an L2 penalty (wd/2)*||w||^2 in the loss, nnkit.regularize.norm_penalty);
AdamW shrinks the weights directly, apart from the adaptive step (decoupled weight decay).
Param groups may set their own weight_decay (nnkit.regularize.decay_groups: weights, not biases).
"""

from __future__ import annotations

import torch

# Where torch (2.4 and later) has fused kernels for floating-point parameters.
FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu")
OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
              "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta}
FUSED = ("sgd", "adam", "adamw", "adagrad")  # torch has no fused RMSprop or Adadelta (2.14)
MOMENTUM = ("sgd", "rmsprop")  # the ones with a `momentum` setting
HAS = {"eps": ("adam", "adamw", "rmsprop", "adagrad", "adadelta"), "betas": ("adam", "adamw"),
       "alpha": ("rmsprop",), "rho": ("adadelta",)}  # which optimizers take these settings
KERNEL_CHOICES = ("fused", "foreach")  # settings of how torch computes a step, not of what it computes


def can_fuse(params: list[torch.Tensor]) -> bool:
    return bool(params) and all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in params)


def make_optimizer(name: str, params, lr: float, *, weight_decay: float = 0.0, momentum: float = 0.0,
                   nesterov: bool = False, eps: float | None = None, betas: tuple[float, float] | None = None,
                   alpha: float | None = None, rho: float | None = None) -> torch.optim.Optimizer:
    """torch.optim's optimizer `name` (a key of OPTIMIZERS) over `params`, fused where it can be.

    `params` is an iterable of tensors or of param-group dicts (a group's own settings, such as
    its weight_decay, win over the arguments). `momentum` applies to "sgd" and "rmsprop",
    `nesterov` to "sgd" only (torch needs momentum > 0 for it); other optimizers refuse them
    rather than ignore them silently. `eps`, `betas` (Adam, AdamW), `alpha` (RMSprop) and `rho`
    (Adadelta) are torch's own; None keeps torch's default, and an optimizer without the setting
    refuses it too."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}")
    if momentum and name not in MOMENTUM:
        raise ValueError(f"optimizer {name!r} has no momentum setting")
    if nesterov and name != "sgd":
        raise ValueError(f"optimizer {name!r} has no nesterov setting")
    extra = {"eps": eps, "betas": betas, "alpha": alpha, "rho": rho}
    for key, value in extra.items():
        if value is not None and name not in HAS[key]:
            raise ValueError(f"optimizer {name!r} has no {key} setting")
    params = [{**p, "params": _tensors(p["params"])} if isinstance(p, dict) else p for p in params]
    tensors = [t for p in params for t in (p["params"] if isinstance(p, dict) else [p])]
    options = {"lr": lr, "weight_decay": weight_decay}
    if name in MOMENTUM:
        options["momentum"] = momentum
    if name == "sgd":
        options["nesterov"] = nesterov
    options.update({k: v for k, v in extra.items() if v is not None})
    if name in FUSED:
        # None, not False, elsewhere: False would also turn off the foreach kernels torch picks on a GPU
        options["fused"] = True if can_fuse(tensors) else None
    optimizer = OPTIMIZERS[name](params, **options)
    optimizer.register_load_state_dict_pre_hook(_keep_kernel)
    return optimizer


def _tensors(params) -> list[torch.Tensor]:
    """A group's "params" as a list (torch also takes one tensor or a generator, read once)."""
    return [params] if isinstance(params, torch.Tensor) else list(params)


def _keep_kernel(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    """Loading a state_dict copies its param_groups, kernel choice included: a checkpoint written
    by an unfused optimizer (an older file, another machine) would make this one unfused. Keep the
    kernel this optimizer was built with; the file brings only the state (moments, steps) and the
    hyperparameters. torch then places each `step` where that kernel wants it."""
    own = optimizer.param_groups
    groups = [{**saved, **{k: own[i].get(k) for k in KERNEL_CHOICES}} if i < len(own) else saved
              for i, saved in enumerate(state_dict["param_groups"])]  # a count that differs still fails in torch
    return {**state_dict, "param_groups": groups}
