"""Learning-rate schedules as torch.optim.lr_scheduler computes them: build a scheduler from settings,
step it, read the rate it gives each epoch (or each batch). Pure torch; nothing here draws.

`make(name, optimizer, s, steps)` builds scheduler `name` with the settings in `s` (any object with
the attributes the scheduler reads: an experiment's parameters), for a run that steps it `steps` times.
`curve(name, s, steps)` is the rate in effect at each of those steps, read from torch itself;
`closed_form(name, s, steps)` is the textbook formula the page prints (`FORMULAS`), which the tests
hold to torch's values to 1e-12. ReduceLROnPlateau has no formula: it reacts to a loss
(`plateau_loss`, a stated synthetic one here; a real validation loss in training).
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right

import torch
from torch.optim import lr_scheduler

NAMES = ("step", "multistep", "exponential", "cosine", "warm_restarts", "warmup_cosine", "onecycle", "plateau")
# stepped once per batch (a warm-up counted in iterations, OneCycle); every other one once per epoch
PER_BATCH = frozenset({"warmup_cosine", "onecycle"})
# each one's own settings (besides the base learning rate `lr`): the page draws these widgets
READS = {
    "step": ("step_size", "step_gamma"),
    "multistep": ("milestones", "multistep_gamma"),
    "exponential": ("exp_gamma",),
    "cosine": ("t_max", "eta_min"),
    "warm_restarts": ("t_0", "t_mult", "eta_min"),
    "warmup_cosine": ("warmup_steps", "start_factor", "eta_min"),
    "onecycle": ("pct_start", "div_factor", "final_div_factor"),
    "plateau": ("plateau_factor", "patience", "loss_noise"),
}
FORMULAS = {
    "step": r"\eta_t = \eta_0 \cdot \gamma^{\lfloor t / s \rfloor}",
    "multistep": r"\eta_t = \eta_0 \cdot \gamma^{\,\#\{m_i \le t\}}",
    "exponential": r"\eta_t = \eta_0 \cdot \gamma^{t}",
    "cosine": r"\eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\left(1 + \cos\frac{\pi t}{T_{max}}\right)",
    "warm_restarts": r"\eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\left(1 + \cos\frac{\pi T_{cur}}{T_i}\right),"
                     r"\quad T_i = T_0 \cdot T_{mult}^{\,i}",
    "warmup_cosine": r"\eta_t = \begin{cases} \eta_0\left(f_0 + (1 - f_0)\frac{t}{W}\right) & t < W \\"
                     r" \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\left(1 + \cos\frac{\pi (t - W)}{T - W}\right)"
                     r" & t \ge W \end{cases}",
    "onecycle": r"\eta_t = \begin{cases} c\left(\frac{\eta_0}{d},\ \eta_0,\ \frac{t}{pT - 1}\right) & t \le pT - 1 \\"
                r" c\left(\eta_0,\ \frac{\eta_0}{d\, d_f},\ \frac{t - (pT - 1)}{T - 1 - (pT - 1)}\right) & t > pT - 1"
                r" \end{cases},\qquad c(a, b, x) = b + \tfrac12(a - b)(1 + \cos \pi x)",
    "plateau": r"n_{bad} > P \;\Rightarrow\; \eta \leftarrow f \cdot \eta,\ n_{bad} \leftarrow 0",
}


def steps_of(name: str, epochs: int, steps_per_epoch: int) -> int:
    """How many times `name` is stepped in a run: once per batch or once per epoch."""
    return epochs * steps_per_epoch if name in PER_BATCH else epochs


def make(name: str, optimizer: torch.optim.Optimizer, s, steps: int):
    """Scheduler `name` over `optimizer`, with the settings in `s`, for a run of `steps` steps."""
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=s.step_size, gamma=s.step_gamma)
    if name == "multistep":
        return lr_scheduler.MultiStepLR(optimizer, milestones=[int(m) for m in s.milestones], gamma=s.multistep_gamma)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=s.exp_gamma)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=s.t_max, eta_min=s.eta_min)
    if name == "warm_restarts":
        return lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=s.t_0, T_mult=s.t_mult, eta_min=s.eta_min)
    if name == "warmup_cosine":
        warmup = lr_scheduler.LinearLR(optimizer, start_factor=s.start_factor, end_factor=1.0,
                                       total_iters=s.warmup_steps)
        decay = lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps - s.warmup_steps, eta_min=s.eta_min)
        return lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[s.warmup_steps])
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=s.lr, total_steps=steps, pct_start=s.pct_start,
                                       div_factor=s.div_factor, final_div_factor=s.final_div_factor)
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=s.plateau_factor, patience=s.patience)
    raise ValueError(f"unknown scheduler {name!r}; known: {', '.join(NAMES)}")


def optimizer_for(lr: float) -> torch.optim.Optimizer:
    """An SGD optimizer over one stand-in parameter: a scheduler only reads and writes its lr."""
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)


def plateau_loss(epochs: int, noise: float, seed: int) -> list[float]:
    """The stated synthetic validation loss ReduceLROnPlateau reacts to on the curves section:
    L(e) = 0.3 + exp(−e / 5) + noise · z_e, z_e ~ N(0, 1) drawn with `seed`. It falls, then flattens
    into noise: a plateau."""
    z = torch.randn(epochs, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return [0.3 + math.exp(-e / 5) + noise * float(z[e]) for e in range(epochs)]


def curve(name: str, s, steps: int, losses: list[float] | None = None) -> list[float]:
    """The learning rate torch's scheduler `name` gives each of `steps` steps (epochs or batches): the
    rate in effect before the first step, then after each of steps − 1 calls to `scheduler.step()`
    (ReduceLROnPlateau gets `losses[i]`, the loss measured in epoch i)."""
    optimizer = optimizer_for(s.lr)
    scheduler = make(name, optimizer, s, steps)
    rates = [optimizer.param_groups[0]["lr"]]
    with warnings.catch_warnings():  # no optimizer.step() here: torch's order warning is meant for training loops
        warnings.simplefilter("ignore", UserWarning)
        for i in range(steps - 1):
            scheduler.step(losses[i]) if name == "plateau" else scheduler.step()
            rates.append(optimizer.param_groups[0]["lr"])
    return rates


def _cosine(lo: float, hi: float, t: float, period: float) -> float:
    return lo + (hi - lo) * (1 + math.cos(math.pi * t / period)) / 2


def _restart(s, t: int) -> tuple[int, int]:
    """CosineAnnealingWarmRestarts' (T_cur, T_i) at step t."""
    if s.t_mult == 1:
        return t % s.t_0, s.t_0
    i = int(math.log(t / s.t_0 * (s.t_mult - 1) + 1, s.t_mult))
    start = s.t_0 * (s.t_mult ** i - 1) // (s.t_mult - 1)
    if start > t:  # log rounded up across a restart
        i -= 1
        start = s.t_0 * (s.t_mult ** i - 1) // (s.t_mult - 1)
    return t - start, s.t_0 * s.t_mult ** i


def closed_form(name: str, s, steps: int) -> list[float]:
    """The formula in FORMULAS evaluated at t = 0 … steps − 1 (no ReduceLROnPlateau: it has none)."""
    lr = s.lr
    if name == "step":
        return [lr * s.step_gamma ** (t // s.step_size) for t in range(steps)]
    if name == "multistep":
        marks = sorted(int(m) for m in s.milestones)
        return [lr * s.multistep_gamma ** bisect_right(marks, t) for t in range(steps)]
    if name == "exponential":
        return [lr * s.exp_gamma ** t for t in range(steps)]
    if name == "cosine":
        return [_cosine(s.eta_min, lr, t, s.t_max) for t in range(steps)]
    if name == "warm_restarts":
        return [_cosine(s.eta_min, lr, *_restart(s, t)) for t in range(steps)]
    if name == "warmup_cosine":
        w, f0 = s.warmup_steps, s.start_factor
        return [lr * (f0 + (1 - f0) * t / w) if t < w else _cosine(s.eta_min, lr, t - w, steps - w)
                for t in range(steps)]
    if name == "onecycle":
        peak = float(s.pct_start * steps) - 1
        low, end = lr / s.div_factor, lr / s.div_factor / s.final_div_factor
        # torch's two phases: up from lr / d to lr until step pT − 1, then down to lr / (d · d_f) at step T − 1
        return [_cosine(lr, low, t, peak) if t <= peak else _cosine(end, lr, t - peak, steps - 1 - peak)
                for t in range(steps)]
    raise ValueError(f"{name!r} has no closed form")


CALLS = ("right", "before", "wrong_count")  # where scheduler.step() is called in the training loop


def rates_used(name: str, s, epochs: int, batches: int, call: str = "right",
               losses: list[float] | None = None) -> dict:
    """The learning rate each optimizer.step() of a real training loop uses, with `scheduler.step()`
    called "right" (after optimizer.step(): per batch for warm-up and OneCycle, per epoch for the
    others, ReduceLROnPlateau with the epoch's validation loss `losses[e]`), "before" optimizer.step()
    (per-epoch ones at the top of the epoch), or the "wrong_count" of times (per batch instead of per
    epoch, or per epoch instead of per batch; ReduceLROnPlateau then gets the last measured loss every
    batch). Returns {"lrs": one rate per batch, "warning": torch's warning about the order or None,
    "error": what torch raised, or None: the rates used until then are kept}."""
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=s.lr, momentum=0.9)
    scheduler = make(name, optimizer, s, epochs * batches if name in PER_BATCH else epochs)
    per_batch = (name in PER_BATCH) != (call == "wrong_count")
    measured: list[float] = []  # the validation losses measured so far

    def advance() -> None:
        if name != "plateau":
            scheduler.step()
        elif measured:  # nothing measured yet before the first epoch ends
            scheduler.step(measured[-1])

    used, error = [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for e in range(epochs):
                if call == "before" and not per_batch:
                    advance()
                for _ in range(batches):
                    if call == "before" and per_batch:
                        advance()
                    optimizer.zero_grad()
                    weight.sum().backward()
                    used.append(optimizer.param_groups[0]["lr"])
                    optimizer.step()
                    if call != "before" and per_batch:
                        advance()
                measured.append(losses[e] if losses is not None else 0.0)
                if call != "before" and not per_batch:
                    advance()
        except (TypeError, ValueError) as err:  # OneCycleLR stepped past its total, for instance
            error = f"{type(err).__name__}: {err}"
    order = [str(w.message) for w in caught if "lr_scheduler.step()" in str(w.message)]
    return {"lrs": used, "warning": order[0] if order else None, "error": error}
