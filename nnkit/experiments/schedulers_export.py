"""The Schedulers page's code export: self-contained scripts that build each torch scheduler with the
page's settings, step it as the page does and print the page's numbers (comments in en or zh)."""

from __future__ import annotations

from nnkit import schedules
from nnkit.experiments.base import comments, fmt

COMMENTS = {
    "en": {"settings": "NN Playground - Learning-rate schedulers, exported with these settings:",
           "stand_in": "a scheduler only reads and writes the optimizer's lr: one stand-in parameter will do",
           "order": "optimizer.step() first, then scheduler.step()",
           "loss": "the stated synthetic validation loss that ReduceLROnPlateau reacts to",
           "batch": "per batch: warm-up counted in iterations, OneCycle",
           "epoch": "per epoch: the others (ReduceLROnPlateau with the epoch's validation loss)",
           "before": "the mistake: called before optimizer.step() (torch warns; the first rate is skipped)",
           "count": "the mistake: called per batch instead of per epoch, or the other way round"},
    "zh": {"settings": "NN Playground - 学习率调节器,导出时的设置:",
           "stand_in": "调节器只读写优化器的 lr:一个替身参数就够了",
           "order": "先 optimizer.step(),再 scheduler.step()",
           "loss": "写明公式的合成验证损失,ReduceLROnPlateau 根据它调整",
           "batch": "每个小批量调用:以迭代次数计的预热、OneCycle",
           "epoch": "每轮调用:其余的(ReduceLROnPlateau 传入这一轮的验证损失)",
           "before": "错误用法:在 optimizer.step() 之前调用(torch 会警告,第一个学习率被跳过)",
           "count": "错误用法:本该每轮调用却每个小批量调用,或者反过来"},
}


def constructor(name: str, p, steps: int) -> str:
    """The torch code that nnkit.schedules.make runs for `name` (the export test holds them together)."""
    if name == "step":
        return f"lr_scheduler.StepLR(optimizer, step_size={p.step_size}, gamma={fmt(p.step_gamma)})"
    if name == "multistep":
        marks = [int(m) for m in p.milestones]
        return f"lr_scheduler.MultiStepLR(optimizer, milestones={marks}, gamma={fmt(p.multistep_gamma)})"
    if name == "exponential":
        return f"lr_scheduler.ExponentialLR(optimizer, gamma={fmt(p.exp_gamma)})"
    if name == "cosine":
        return f"lr_scheduler.CosineAnnealingLR(optimizer, T_max={p.t_max}, eta_min={fmt(p.eta_min)})"
    if name == "warm_restarts":
        return f"lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0={p.t_0}, T_mult={p.t_mult}, eta_min={fmt(p.eta_min)})"
    if name == "warmup_cosine":
        w = p.warmup_steps
        return (f"lr_scheduler.SequentialLR(optimizer, [\n"
                f"        lr_scheduler.LinearLR(optimizer, start_factor={fmt(p.start_factor)}, end_factor=1.0, total_iters={w}),\n"
                f"        lr_scheduler.CosineAnnealingLR(optimizer, T_max={steps - w}, eta_min={fmt(p.eta_min)})],\n"
                f"        milestones=[{w}])")
    if name == "onecycle":
        return (f"lr_scheduler.OneCycleLR(optimizer, max_lr={fmt(p.lr)}, total_steps={steps}, pct_start={fmt(p.pct_start)}, "
                f"div_factor={fmt(p.div_factor)}, final_div_factor={fmt(p.final_div_factor)})")
    if name == "plateau":
        return f"lr_scheduler.ReduceLROnPlateau(optimizer, mode=\"min\", factor={fmt(p.plateau_factor)}, patience={p.patience})"
    raise ValueError(f"unknown scheduler {name!r}")


def _head(p, names: tuple[str, ...], c: dict) -> str:
    settings = "\n".join(f"    {n} = {getattr(p, n)!r}" for n in names)
    return f'''"""{c['settings']}
{settings}
"""
import math

import torch
from torch.optim import lr_scheduler

torch.manual_seed({p.seed})
epochs, batches = {p.epochs}, {p.steps_per_epoch}
z = torch.randn(epochs, generator=torch.Generator().manual_seed({p.seed}), dtype=torch.float64)
val_losses = [0.3 + math.exp(-e / 5) + {fmt(p.loss_noise)} * z[e].item() for e in range(epochs)]  # {c['loss']}


def new_optimizer():
    weight = torch.zeros(1, requires_grad=True)  # {c['stand_in']}
    return weight, torch.optim.SGD([weight], lr={fmt(p.lr)}, momentum=0.9)

'''


def _makers(p, names) -> str:
    lines = []
    for name in names:
        steps = schedules.steps_of(name, p.epochs, p.steps_per_epoch)
        lines.append(f"    {name!r}: (lambda optimizer: {constructor(name, p, steps)}, {steps}),")
    return "schedulers = {\n" + "\n".join(lines) + "\n}\n"


def schedules_script(p, lang: str = "en") -> str:
    from nnkit.experiments.schedulers_curves import reads

    c = comments(COMMENTS, lang)
    return _head(p, reads(p), c) + _makers(p, p.schedulers) + f'''
for name, (make, steps) in schedulers.items():
    weight, optimizer = new_optimizer()
    scheduler = make(optimizer)
    lrs = [optimizer.param_groups[0]["lr"]]
    for i in range(steps - 1):
        optimizer.step()  # {c['order']}
        scheduler.step(val_losses[i]) if name == "plateau" else scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    print(f"{{name}}: steps {{len(lrs)}}, first {{lrs[0]:.10g}}, last {{lrs[-1]:.10g}}, "
          f"min {{min(lrs):.10g}}, max {{max(lrs):.10g}}")
'''


def placement_script(p, lang: str = "en") -> str:
    from nnkit.experiments.schedulers_placement import reads

    c = comments(COMMENTS, lang)
    name = p.placement_scheduler
    return _head(p, reads(p), c) + _makers(p, (name,)) + f'''import warnings

name = {name!r}
make, _ = schedulers[name]
for call in ("right", "before", "wrong_count"):
    weight, optimizer = new_optimizer()
    scheduler = make(optimizer)
    per_batch = (name in ("warmup_cosine", "onecycle")) != (call == "wrong_count")  # {c['count']}
    measured, used, warned, error = [], [], False, None

    def advance():
        if name != "plateau":
            scheduler.step()
        elif measured:  # ReduceLROnPlateau needs the last measured validation loss
            scheduler.step(measured[-1])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for epoch in range(epochs):
                if call == "before" and not per_batch:
                    advance()  # {c['before']}
                for batch in range(batches):
                    if call == "before" and per_batch:
                        advance()  # {c['before']}
                    optimizer.zero_grad()
                    weight.sum().backward()
                    used.append(optimizer.param_groups[0]["lr"])
                    optimizer.step()
                    if call != "before" and per_batch:
                        advance()  # {c['batch']}
                measured.append(val_losses[epoch])
                if call != "before" and not per_batch:
                    advance()  # {c['epoch']}
        except (TypeError, ValueError) as err:
            error = f"{{type(err).__name__}}: {{err}}"
    warned = any("lr_scheduler.step()" in str(w.message) for w in caught)
    change = next((i for i, lr in enumerate(used) if lr != used[0]), None)
    print(f"{{call}}: first {{used[0]:.10g}}, last {{used[-1]:.10g}}, min {{min(used):.10g}}, max {{max(used):.10g}}, "
          f"first change at batch {{change}}, torch warned {{warned}}, error {{error}}")
'''
