"""Dropout, taken apart: the masks, the two ways of scaling, train vs eval mode, and the average of
many thinned networks (Monte Carlo dropout).

Two conventions name the same idea with opposite numbers:
- the original paper (and the course notes) keep each unit with probability p_keep during training
  and multiply by p_keep at test time;
- PyTorch's `nn.Dropout(p)` takes the *drop* probability p = 1 - p_keep and divides the kept
  outputs by 1 - p during training ("inverted dropout"), so evaluation is the identity.
Both give a training-time output whose expectation equals the test-time output. Dropout zeroes a
unit's *output* (its activation); zeroing weights instead is DropConnect.

Masks are drawn as `torch.nn.functional.dropout` draws them (`bernoulli_(1 - p)` on a tensor of the
input's shape), so with a generator seeded like torch's global one they are the very same masks.
"""

from __future__ import annotations

import types
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from nnkit.device import seeded
from nnkit.errors import CodedError


class DropoutError(CodedError):
    """A drop probability dropout cannot use (drp.error.<code>)."""

    codes = ("rate",)


def check_rate(p_drop: float) -> float:
    """A drop probability in [0, 1): at 1 every unit is dropped, nothing passes, and 1/(1 - p) is undefined."""
    if not 0.0 <= p_drop < 1.0:
        raise DropoutError("rate", f"a drop probability must be at least 0 and below 1, got {p_drop!r}",
                           rate=p_drop)
    return float(p_drop)


def keep_mask(shape: tuple[int, ...], p_drop: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """1 for a kept unit (probability 1 - p_drop), 0 for a dropped one, as float32."""
    return torch.empty(shape).bernoulli_(1.0 - check_rate(p_drop), generator=generator)


@contextmanager
def masks_from(model: nn.Module, generator: torch.Generator) -> Iterator[None]:
    """Inside the block, the model's `nn.Dropout` layers draw their masks from `generator` (a CPU
    generator) instead of torch's global one, exactly as `F.dropout` draws and scales them on the CPU
    (`empty_like(x).bernoulli_(1 - p)`, divided by 1 - p, times x): a generator holding the global
    one's state gives the very same training. A training then needs no lock on the global generator,
    which every visitor of a server shares."""
    layers = [m for m in model.modules() if type(m) is nn.Dropout]

    def forward(layer: nn.Dropout, x: torch.Tensor) -> torch.Tensor:
        if not layer.training or layer.p == 0 or x.numel() == 0:
            return x
        noise = torch.empty(x.shape, dtype=x.dtype).bernoulli_(1.0 - layer.p, generator=generator)
        return x * noise.div_(1.0 - layer.p).to(x.device)

    for layer in layers:
        layer.forward = types.MethodType(forward, layer)
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward  # the class's own forward again


def inverted(h: torch.Tensor, mask: torch.Tensor, p_drop: float) -> torch.Tensor:
    """PyTorch's training-time dropout: kept outputs scaled by 1 / (1 - p_drop); eval is the identity."""
    return h * mask / (1.0 - check_rate(p_drop))


def original(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The original training-time dropout: kept outputs unchanged; at test time h * p_keep."""
    return h * mask


def expectations(h: torch.Tensor, p_drop: float, samples: int, generator: torch.Generator | None = None) -> dict:
    """The average training-time output of one layer's outputs `h` (units,) over `samples` masks, in
    both conventions, beside each convention's test-time output. "drop_scaled" is the test-time
    output of a library that multiplies by the *drop* probability (right only at p = 0.5)."""
    masks = keep_mask((samples, *h.shape), p_drop, generator)
    p_keep = 1.0 - p_drop
    return {"h": h, "inverted_train": inverted(h, masks, p_drop).mean(0), "inverted_eval": h,
            "original_train": original(h, masks).mean(0), "original_eval": h * p_keep,
            "drop_scaled_eval": h * p_drop, "kept_share": float(masks.mean())}


def thinned_networks(units: int) -> int:
    """How many different thinned networks `units` droppable units make: each is kept or not."""
    return 2 ** units


def mask_passes(sizes: list[int], rates: list[float], passes: int, seed: int) -> list[list[list[int]]]:
    """For each of `passes` training forward passes, the keep mask (0/1 per unit) of each layer of
    `sizes` units with drop probability `rates[i]`: what a network with those dropout layers draws."""
    g = torch.Generator().manual_seed(seed)
    return [[keep_mask((size,), rate, g).int().tolist() for size, rate in zip(sizes, rates)] for _ in range(passes)]


@torch.no_grad()
def train_mode_outputs(model: nn.Module, x: torch.Tensor, passes: int, seed: int) -> torch.Tensor:
    """`passes` forward passes of `x` with dropout on (model.train()): (passes, n, outputs).
    The model's mode is restored afterwards."""
    was_training = model.training
    model.train()
    with seeded(seed):  # the masks come from torch's global generator
        out = torch.stack([model(x) for _ in range(passes)])
    model.train(was_training)
    return out


@torch.no_grad()
def eval_output(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One forward pass with dropout off (model.eval()), the mode restored afterwards."""
    was_training = model.training
    model.eval()
    out = model(x)
    model.train(was_training)
    return out


def mc_average(model: nn.Module, x: torch.Tensor, ks: list[int], seed: int) -> dict:
    """Monte Carlo dropout: the class probabilities averaged over the first k thinned networks, for
    each k in `ks`, beside the eval-mode (weight-scaled) probabilities. "std" is the spread of P(class 1)
    over all max(ks) passes: where the thinned networks disagree."""
    probs = torch.softmax(train_mode_outputs(model, x, max(ks), seed), dim=-1)
    running = probs.cumsum(0) / torch.arange(1, len(probs) + 1)[:, None, None]
    return {"ks": list(ks), "mean": {k: running[k - 1] for k in ks}, "std": probs[..., 1].std(0, correction=0),
            "eval": torch.softmax(eval_output(model, x), dim=-1)}


def forgot_eval(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor], repeats: int, seed: int) -> dict:
    """Accuracy and cross-entropy on `data` scored `repeats` times with dropout still on
    (model.eval() forgotten), beside the one accuracy and loss in eval mode."""
    x, y = data
    outs, once = train_mode_outputs(model, x, repeats, seed), eval_output(model, x)
    return {"train_mode": (outs.argmax(-1) == y).float().mean(1).tolist(),
            "eval_mode": float((once.argmax(-1) == y).float().mean()),
            "train_mode_loss": [float(nn.functional.cross_entropy(out, y)) for out in outs],
            "eval_mode_loss": float(nn.functional.cross_entropy(once, y))}
