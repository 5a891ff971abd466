"""The exported scripts of the Schedulers page's training, range test and batch-size sections: the digits,
the MLP, the textbook training loop with `scheduler.step()` after `optimizer.step()` (per batch or per epoch,
ReduceLROnPlateau fed the validation loss), printing the numbers the page shows."""

from __future__ import annotations

from nnkit import schedules
from nnkit.experiments import digits_export
from nnkit.experiments.base import comments
from nnkit.experiments.schedulers_export import constructor
from nnkit.experiments.schedulers_training import HIDDEN, MOMENTUM, VAL_FRACTION, spanning

COMMENTS = {
    "en": {"settings": "NN Playground - Schedulers ({section}), exported with these settings:",
           "needs": "Needs torch, numpy and scikit-learn.",
           "order": "epoch e's batch order depends on seed + e alone, as in the app",
           "after": "scheduler.step() after optimizer.step(): per batch for warm-up and OneCycle",
           "epoch": "per epoch for the others; ReduceLROnPlateau is fed the validation loss",
           "smooth": "the range test: the rate grows by the same factor every batch; fastai's smoothed loss",
           "blowup": "stop when the smoothed loss passes 4 x its lowest; suggest a tenth of the best rate"},
    "zh": {"settings": "NN Playground - 学习率调节器({section}),导出时的设置:",
           "needs": "需要 torch、numpy 和 scikit-learn。",
           "order": "第 e 轮的批量顺序只取决于 seed + e,与应用中相同",
           "after": "scheduler.step() 放在 optimizer.step() 之后:预热和 OneCycle 每个批量调用一次",
           "epoch": "其余的每轮调用一次;ReduceLROnPlateau 要传入验证损失",
           "smooth": "学习率范围测试:每个批量把学习率乘以同一个倍数;损失按 fastai 的方法平滑",
           "blowup": "平滑损失超过最低值的 4 倍就停止;建议取最佳学习率的十分之一"},
}

_HEAD = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import math

import numpy as np
import torch
from torch import nn
from torch.optim import lr_scheduler

SEED = {seed}


{load_data}

{validation_split}

(images, labels), _ = load_data()
train_idx, val_idx = validation_split(labels, {val_fraction!r}, SEED)
x = images.float().div(255).flatten(1)
train, val = (x[train_idx], labels[train_idx]), (x[val_idx], labels[val_idx])
loss_fn = nn.CrossEntropyLoss()


def network():
    torch.manual_seed(SEED)
    return nn.Sequential(nn.Linear(64, {hidden}), nn.ReLU(), nn.Linear({hidden}, 10))


def make_optimizer(name, model, lr):
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum={momentum!r})
    return torch.optim.Adam(model.parameters(), lr=lr)


@torch.no_grad()
def evaluate(model, data):
    model.eval()
    out = model(data[0])
    model.train()
    return float(loss_fn(out, data[1])), (out.argmax(1) == data[1]).float().mean().item()


def train_with(model, optimizer, scheduler, per_batch, epochs, batch_size, listen=None):
    n, lrs = len(train[0]), []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=torch.Generator().manual_seed(SEED + epoch))  # {c[order]}
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(train[0][idx]), train[1][idx])
            if not math.isfinite(loss.item()):
                return "diverged", lrs, None
            loss.backward()
            optimizer.step()
            lrs.append(optimizer.param_groups[0]["lr"])
            if listen is not None and listen(loss.item(), lrs[-1]):
                return "stopped", lrs, None
            if scheduler is not None and per_batch:  # {c[after]}
                scheduler.step()
        val_loss, val_acc = evaluate(model, val)
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):  # {c[epoch]}
            scheduler.step(val_loss)
        elif scheduler is not None and not per_batch:
            scheduler.step()
    return "completed", lrs, (val_loss, val_acc)
'''

_TRAINING = '''
EPOCHS, BATCH_SIZE, LR, OPTIMIZER = {epochs}, {batch}, {lr!r}, {optimizer!r}
STEPS_PER_EPOCH = math.ceil(len(train[0]) / BATCH_SIZE)
SCHEDULES = {{
{schedules}
}}
for name, (build, per_batch) in SCHEDULES.items():
    model = network()
    optimizer = make_optimizer(OPTIMIZER, model, LR)
    outcome, lrs, scores = train_with(model, optimizer, build(optimizer), per_batch, EPOCHS, BATCH_SIZE)
    if scores is None:
        print(f"{{name}}: {{outcome}} after {{len(lrs)}} steps")
    else:
        print(f"{{name}}: val_loss {{scores[0]:.8f}} val_accuracy {{scores[1]:.8f}} lr_last {{lrs[-1]:.8g}}")
'''

_RANGE = '''
START_LR, END_LR, STEPS, BATCH_SIZE, EPOCHS, OPTIMIZER = {start!r}, {end!r}, {steps}, {batch}, {epochs}, {optimizer!r}
model = network()
optimizer = make_optimizer(OPTIMIZER, model, START_LR)
# {c[smooth]}
scheduler = lr_scheduler.ExponentialLR(optimizer, (END_LR / START_LR) ** (1 / max(STEPS - 1, 1)))
smoothed, average = [], 0.0


def listen(loss, lr):  # {c[blowup]}
    global average
    average = 0.98 * average + 0.02 * loss
    smoothed.append(average / (1 - 0.98 ** (len(smoothed) + 1)))
    return smoothed[-1] > 4 * min(smoothed) or len(smoothed) == STEPS


_, lrs, _ = train_with(model, optimizer, scheduler, True, math.ceil(STEPS / math.ceil(len(train[0]) / BATCH_SIZE)),
                       BATCH_SIZE, listen)
best = min(range(len(smoothed)), key=smoothed.__getitem__)
print(f"range test: {{len(lrs)}} batches, lowest smoothed loss {{smoothed[best]:.8f}} at {{lrs[best]:.8g}}, "
      f"suggested {{lrs[best] / 10:.8g}}")
for name, lr in (("suggested", lrs[best] / 10), ("minimum", lrs[best]), ("blow_up", lrs[-1])):
    if name not in {rates}:
        continue
    model = network()
    outcome, _, scores = train_with(model, make_optimizer(OPTIMIZER, model, lr), None, False, EPOCHS, BATCH_SIZE)
    print(f"{{name}}: lr {{lr:.8g}} " + (f"val_loss {{scores[0]:.8f}} val_accuracy {{scores[1]:.8f}}" if scores
                                          else outcome))
'''

_BATCH = '''
B, K, LR, EPOCHS = {base}, {factor}, {lr!r}, {epochs}
for name, batch_size, lr in (("base", B, LR), ("unscaled", K * B, LR), ("scaled", K * B, K * LR)):
    if name not in {runs}:
        continue
    model = network()
    outcome, lrs, scores = train_with(model, make_optimizer("sgd", model, lr), None, False, EPOCHS, batch_size)
    print(f"{{name}}: batch {{batch_size}} lr {{lr:.8g}} steps {{len(lrs)}} " +
          (f"val_loss {{scores[0]:.8f}} val_accuracy {{scores[1]:.8f}}" if scores else outcome))
'''


def _head(p, section: str, names: list[str], lang: str) -> tuple[dict, str]:
    c = comments(COMMENTS, lang)
    c = {**c, "settings": c["settings"].format(section=section)}
    settings = "\n".join(f"    {n} = {getattr(p, n)!r}" for n in ["section", *names, "seed"])
    return c, _HEAD.format(c=c, settings=settings, seed=p.seed, val_fraction=VAL_FRACTION, hidden=HIDDEN[0],
                           momentum=MOMENTUM, load_data=digits_export.load_data(lang),
                           validation_split=digits_export.validation_split(lang))


def export_training(p, lang: str = "en") -> str:
    from nnkit.experiments.schedulers_training import batches_per_epoch, digits, reads

    c, head = _head(p, "training", list(reads(p)), lang)
    s = spanning(p, p.train_epochs, p.train_lr, p.train_warmup)
    per_epoch = batches_per_epoch(len(digits(p.seed)[0][0]), p.train_batch)
    lines = []
    for name in p.train_schedules:
        steps = schedules.steps_of(name, p.train_epochs, per_epoch)
        build = f"lambda optimizer: {'None' if name == 'fixed' else constructor(name, s, steps)}"
        lines.append(f"    {name!r}: ({build}, {name in schedules.PER_BATCH}),")
    return head + _TRAINING.format(epochs=p.train_epochs, batch=p.train_batch, lr=p.train_lr,
                                   optimizer=p.train_optimizer, schedules="\n".join(lines))


def export_range_test(p, lang: str = "en") -> str:
    names = ["rt_optimizer", "rt_start_lr", "rt_end_lr", "rt_steps", "rt_batch", "rt_epochs", "rt_rates"]
    c, head = _head(p, "range_test", names, lang)
    return head + _RANGE.format(c=c, start=p.rt_start_lr, end=p.rt_end_lr, steps=p.rt_steps, batch=p.rt_batch,
                                epochs=p.rt_epochs, optimizer=p.rt_optimizer, rates=list(p.rt_rates))


def export_batch_size(p, lang: str = "en") -> str:
    _, head = _head(p, "batch_size", ["bs_base", "bs_factor", "bs_lr", "bs_epochs", "bs_runs"], lang)
    return head + _BATCH.format(base=p.bs_base, factor=p.bs_factor, lr=p.bs_lr, epochs=p.bs_epochs, runs=list(p.bs_runs))
