"""Weight penalties: the L1, L2 and general p-norm terms a loss can carry, and weight decay's groups.

- `weights(model)`: the parameters a penalty or weight decay acts on (weight matrices and kernels).
- `norm_penalty(model, p, lam)`: lam * sum_w |w|^p, a tensor to add to the loss (`fit(..., penalty=...)`).
- `decay_groups(model, weight_decay)`: param groups that decay exactly `weights(model)`.

Only weights are penalised, not biases (nor the 1-D scale and shift of a normalisation layer): a
bias moves the output up or down without making the function any more wiggly, so shrinking it
does not fight overfitting, it only pulls the output towards zero (underfitting on data whose mean
is not zero). Each bias is also one number per unit, too few to overfit with.

p = 2 with lam = wd / 2 is the classic L2 penalty (lam/2)*||w||^2 written as (wd/2)*||w||^2: its
gradient wd * w is what torch.optim.SGD(weight_decay=wd) adds to the gradient, so an SGD step
becomes w <- (1 - lr*wd) w - lr * grad, the "weight decay" (tests/test_nnkit_regularize.py).
p = 1 adds lam * sign(w) to the gradient: a constant pull towards zero that drives unneeded
weights to (near) zero (sparse weights, a kind of feature selection).
"""

from __future__ import annotations

import torch
from torch import nn


def weights(model: nn.Module) -> list[nn.Parameter]:
    """The parameters with two or more dimensions: Linear weights, convolution kernels, embeddings."""
    return [p for p in model.parameters() if p.ndim >= 2]


def norm_penalty(model: nn.Module, p: float = 2.0, lam: float = 1.0) -> torch.Tensor:
    """lam * sum over the weights w of |w|^p: p=2 gives lam*||w||_2^2, p=1 lam*||w||_1.
    For fit: `fit(..., penalty=lambda m: norm_penalty(m, 1, 1e-3))`."""
    if p <= 0:
        raise ValueError(f"p must be positive, got {p}")
    ws = weights(model)
    if p == 2:  # w*w: the exact gradient 2w (|w|**2 is the same number, its gradient rounds differently)
        terms = [(w * w).sum() for w in ws]
    elif p == 1:
        terms = [w.abs().sum() for w in ws]
    else:
        terms = [w.abs().pow(p).sum() for w in ws]
    return lam * torch.stack(terms).sum() if terms else torch.zeros(())


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two param groups for make_optimizer: the weights, decayed by `weight_decay`, and every other
    parameter (biases, normalisation scales) not decayed: the same set `norm_penalty` penalises."""
    decayed = {id(w) for w in weights(model)}
    return [{"params": weights(model), "weight_decay": weight_decay},
            {"params": [q for q in model.parameters() if id(q) not in decayed], "weight_decay": 0.0}]
