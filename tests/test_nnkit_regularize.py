"""Weight penalties in fit: an L2 term in the loss is torch's weight_decay for SGD (not for Adam,
whose decoupled form is AdamW), L1 drives unneeded weights to zero, and what fit reports."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nnkit.models import mlp
from nnkit.optim import make_optimizer
from nnkit.regularize import decay_groups, norm_penalty, weights
from nnkit.train import fit


def _regression(n: int, noise: float):
    """y depends on the first 4 of 20 inputs; the other 16 are irrelevant."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 20, generator=g)
    true = torch.zeros(20)
    true[:4] = torch.tensor([2.0, -1.5, 1.0, 0.5])
    return x, x @ true[:, None] + 0.3 + noise * torch.randn(n, 1, generator=g)


def _model():
    torch.manual_seed(0)
    return mlp(20, [16], 1)


def _max_difference(a: nn.Module, b: nn.Module) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


def _l2(lam):
    return lambda m: norm_penalty(m, 2, lam / 2)  # (lam/2)*||w||^2, whose gradient is lam*w


# 50 full-batch steps in float32: measured 6e-8 (plain) and 1.8e-7 (momentum 0.9), float rounding.
# Decaying the biases too, or by lam instead of lam/2, moves them by 0.045 (measured).
@pytest.mark.parametrize("settings", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}])
def test_sgd_with_an_l2_penalty_is_sgd_with_weight_decay(settings):
    x, y = _regression(200, 0.1)
    lam = 0.05
    penalised, decayed, plain = _model(), _model(), _model()
    fit(penalised, nn.MSELoss(), make_optimizer("sgd", penalised.parameters(), 0.05, **settings), (x, y),
        epochs=50, penalty=_l2(lam))
    fit(decayed, nn.MSELoss(), make_optimizer("sgd", decay_groups(decayed, lam), 0.05, **settings), (x, y), epochs=50)
    fit(plain, nn.MSELoss(), make_optimizer("sgd", plain.parameters(), 0.05, **settings), (x, y), epochs=50)
    assert _max_difference(penalised, decayed) < 1e-6
    assert _max_difference(penalised, plain) > 1e-3  # the penalty did something


def test_adam_with_an_l2_penalty_is_coupled_decay_not_adamw():
    """Adam divides the penalty's gradient by its running scale like any other gradient, so large
    weights with large gradients are hardly decayed; AdamW shrinks every weight by lr*wd*w.
    Measured after 50 steps (lam 0.05, lr 0.01): Adam+L2 equals Adam(weight_decay) to 6e-8, and
    differs from AdamW by 0.49 at most (||w|| 3.67 vs 4.67)."""
    x, y = _regression(200, 0.1)
    lam = 0.05
    penalised, coupled, decoupled = _model(), _model(), _model()
    fit(penalised, nn.MSELoss(), make_optimizer("adam", penalised.parameters(), 0.01), (x, y),
        epochs=50, penalty=_l2(lam))
    fit(coupled, nn.MSELoss(), make_optimizer("adam", decay_groups(coupled, lam), 0.01), (x, y), epochs=50)
    fit(decoupled, nn.MSELoss(), make_optimizer("adamw", decay_groups(decoupled, lam), 0.01), (x, y), epochs=50)
    assert _max_difference(penalised, coupled) < 1e-6
    assert _max_difference(penalised, decoupled) > 0.1


def _near_zero_share(lam: float, p: int) -> float:
    x, y = _regression(40, 0.5)  # few, noisy samples: unpenalised least squares uses every input
    torch.manual_seed(0)
    linear = nn.Linear(20, 1)
    fit(linear, nn.MSELoss(), make_optimizer("sgd", linear.parameters(), 0.05), (x, y), epochs=1000,
        penalty=lambda m: norm_penalty(m, p, lam))
    # SGD on |w| keeps a zero weight hopping by lr*lam (at most 0.015 here): "near" is under 0.02
    return (linear.weight.abs() < 0.02).float().mean().item()


def test_l1_drives_more_weights_to_zero_as_lam_grows_and_l2_does_not():
    # measured shares of the 20 weights: 0.05, 0.10, 0.10, 0.30, 0.60 (16 of 20 are irrelevant)
    shares = [_near_zero_share(lam, 1) for lam in (0.0, 0.01, 0.03, 0.1, 0.3)]
    assert shares == sorted(shares)
    assert shares[0] <= 0.1 and shares[-1] >= 0.5
    assert _near_zero_share(0.3, 2) == 0.0  # L2 shrinks weights, but none to zero


def test_the_penalty_covers_weights_not_biases():
    model = _model()
    assert [tuple(w.shape) for w in weights(model)] == [(16, 20), (1, 16)]
    first, last = model[0].weight, model[2].weight
    want = {1: first.abs().sum() + last.abs().sum(), 2: (first ** 2).sum() + (last ** 2).sum(),
            3: (first.abs() ** 3).sum() + (last.abs() ** 3).sum()}
    for p, value in want.items():
        assert torch.allclose(norm_penalty(model, p, 0.1), 0.1 * value)
    groups = decay_groups(model, 0.2)
    assert [len(g["params"]) for g in groups] == [2, 2] and groups[1]["weight_decay"] == 0.0
    with pytest.raises(ValueError, match="p must be positive"):
        norm_penalty(model, 0, 0.1)


def test_fit_reports_the_data_loss_and_the_penalty_apart():
    x, y = _regression(200, 0.1)
    model, events = _model(), []
    result = fit(model, nn.MSELoss(), make_optimizer("sgd", model.parameters(), 0.05), (x, y), epochs=3,
                 val=(x, y), penalty=_l2(0.05), callback=events.append)
    steps = [e for e in events if e["event"] == "step"]
    initial = _model()
    with torch.no_grad():  # the first full-batch step is measured on the initial weights
        assert steps[0]["loss"] == pytest.approx(nn.functional.mse_loss(initial(x), y).item())
        assert steps[0]["penalty"] == pytest.approx(norm_penalty(initial, 2, 0.025).item())
    assert steps[0]["penalty"] > 0.01 * steps[0]["loss"]  # big enough that a mix-up would show
    assert [e["train_penalty"] for e in result.epochs] == pytest.approx([s["penalty"] for s in steps])
    with torch.no_grad():  # the validation loss carries no penalty either
        assert result.final["val_loss"] == pytest.approx(nn.functional.mse_loss(model(x), y).item())
    plain = _model()
    unpenalised = fit(plain, nn.MSELoss(), make_optimizer("sgd", plain.parameters(), 0.05), (x, y), epochs=1)
    assert "train_penalty" not in unpenalised.final
