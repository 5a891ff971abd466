"""The Optimizers page's network section as a self-contained PyTorch script: the same digits (the
Overfitting page's export's loading, validation split and subset), the same MLP from the same seed
for every optimizer, the same seeded batches, each optimizer as nnkit.optim makes it (torch.optim,
fused where torch has the kernel), and Adam then SGD on the same weights. It prints each optimizer's
final training loss, validation loss and accuracy: the page's numbers (tests/test_nnkit_optimizers_network.py).
"""

from __future__ import annotations

from nnkit.experiments.base import comments
from nnkit.experiments.optimizers_network import HIDDEN, phases
from nnkit.experiments.overfitting_validation_export import COMMENTS as DIGIT_COMMENTS, digits_code
from nnkit.optim import FUSED, OPTIMIZERS

COMMENTS = {
    "en": {"settings": "NN Playground - Optimizers (on a real network), exported with these settings:",
           "needs": "Needs torch, numpy and scikit-learn.",
           "flat": "One row of 64 pixels in [0, 1] per image",
           "phases": "each optimizer at its usual settings; Adam then SGD is two phases on the same weights",
           "seed": "the same initial weights for every optimizer",
           "batches": "epoch e is shuffled by SEED + e, whichever optimizer takes it: the same batches for all",
           "eval": "scored in eval mode, without gradients, after every epoch"},
    "zh": {"settings": "NN Playground - 优化器(真实网络),导出时的设置:",
           "needs": "需要 torch、numpy 和 scikit-learn。",
           "flat": "每张图像展平成一行 64 个 [0, 1] 之间的像素",
           "phases": "每个优化器都用常用设置;先 Adam 后 SGD 是同一组权重上的两个阶段",
           "seed": "每个优化器都从同样的初始权重出发",
           "batches": "第 e 轮按 SEED + e 打乱,不论哪个优化器在训练:所有优化器看到同样的小批量",
           "eval": "每轮结束后在评估模式下、不计算梯度地打分"},
}

_SCRIPT = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import numpy as np
import torch
from torch import nn

SEED = {seed}
SUBSET = {subset}
BATCH_SIZE = {batch_size}
HIDDEN = {hidden}
# {c[phases]}: (torch.optim class, its settings, epochs)
PHASES = {{
{phases}
}}

{digits}
# {c[flat]}
x_train, y_train = train_x[subset].flatten(1).float() / 255, train_y[subset]
x_val, y_val = train_x[val_idx].flatten(1).float() / 255, train_y[val_idx]
loss_fn = nn.CrossEntropyLoss()


def build():
    torch.manual_seed(SEED)  # {c[seed]}
    layers, width = [], x_train.shape[1]
    for hidden in HIDDEN:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 10))


def test(model, x, y):
    model.eval()  # {c[eval]}
    with torch.no_grad():
        out = model(x)
        return loss_fn(out, y).item(), (out.argmax(1) == y).float().mean().item()


for name, phases in PHASES.items():
    model, epoch = build(), 0
    for optimizer_class, settings, epochs in phases:
        optimizer = getattr(torch.optim, optimizer_class)(model.parameters(), **settings)
        for _ in range(epochs):
            model.train()
            if BATCH_SIZE >= len(x_train):
                batches = [torch.arange(len(x_train))]
            else:  # {c[batches]}
                order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(SEED + epoch))
                batches = order.split(BATCH_SIZE)
            for idx in batches:
                optimizer.zero_grad()
                loss_fn(model(x_train[idx]), y_train[idx]).backward()
                optimizer.step()
            epoch += 1
    train_loss, _ = test(model, x_train, y_train)
    val_loss, val_acc = test(model, x_val, y_val)
    print(f"{{name}}: train loss {{train_loss:.6f}}, validation loss {{val_loss:.6f}}, "
          f"validation accuracy {{val_acc:.6f}}")
'''


def _torch_settings(factory: str, settings: dict) -> dict:
    """The factory's settings as torch.optim takes them: fused where nnkit.optim fuses (on the CPU)."""
    return {**settings, **({"fused": True} if factory in FUSED else {})}


def export(p, lang: str = "en") -> str:
    from nnkit.experiments.optimizers import applies

    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    lines = []
    for name in p.net_optimizers:
        made = [(OPTIMIZERS[f].__name__, _torch_settings(f, s), e) for f, s, e in phases(p, name)]
        lines.append(f"    {name!r}: {made!r},")
    return _SCRIPT.format(c=c, settings=settings, seed=p.seed, subset=p.subset, batch_size=p.net_batch_size, hidden=HIDDEN, phases="\n".join(lines),
                          digits=digits_code({**comments(DIGIT_COMMENTS, lang), **c}, lang))
