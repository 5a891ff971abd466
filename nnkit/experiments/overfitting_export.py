"""The Overfitting experiment as a self-contained PyTorch script, one per section.

The script draws the same points (make_toy2d's own source, the same seeded shuffles), builds each
network from the same seed, trains it through a DataLoader with the same order of batches and
scores it with no gradients, so it prints the numbers the page shows (tests/test_export.py).
Comments follow the page's language (`COMMENTS`); what it prints stays in English.
"""

from __future__ import annotations

import inspect

from nnkit.datasets.toy2d import make_toy2d
from nnkit.experiments.base import comments

COMMENTS = {
    "en": {
        "settings": "NN Playground - Overfitting ({section}), exported with these settings:",
        "needs": "Needs torch and numpy.",
        "split": "Shuffle once, then cut: training, validation and test sets never share a point",
        "loader": "shuffle=True does the same with RandomSampler; given to the sampler alone, the generator "
                  "draws only the order. One batch holding every point needs no shuffle.",
        "reseed": "each epoch's order depends on its number alone (the sampler draws one more permutation "
                  "after its last batch, which would shift the next epoch's)",
        "no_grad": "testing needs no gradients",
        "same_start": "every network starts from the same seed",
        "choose": "The validation set picks the model; the test set scores it once, at the very end, "
                  "so its number was never used to choose and stays an honest estimate",
        "curve": "The curve to approximate, sampled at random points in [-2, 2]",
        "pieces": "out(x) = b + sum_i w_i f(a_i x + c_i): one piece per hidden unit",
        "sizes": "The same networks on the first n training points, n growing",
    },
    "zh": {
        "settings": "NN Playground - 过拟合({section}),导出时的设置:",
        "needs": "需要 torch 和 numpy。",
        "split": "先打乱一次再切分:训练集、验证集和测试集没有共同的点",
        "loader": "shuffle=True 也是用 RandomSampler 做的;生成器只交给采样器时,它只用来抽取顺序。"
                  "一个批量就装下所有点时无需打乱",
        "reseed": "每轮的顺序只取决于轮次(采样器在最后一批之后还会多抽一次排列,否则会错开下一轮的顺序)",
        "no_grad": "测试时不用计算梯度",
        "same_start": "每个网络都从同一个种子出发",
        "choose": "由验证集挑选模型;测试集只在最后评分一次,它的数字从未参与选择,所以仍是诚实的估计",
        "curve": "要逼近的曲线,在 [-2, 2] 内的随机点上取样",
        "pieces": "out(x) = b + sum_i w_i f(a_i x + c_i):每个隐藏单元贡献一段",
        "sizes": "同样的网络,只用前 n 个训练点训练,n 逐渐增大",
    },
}

_HEAD = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

SEED = {seed}
LR = {lr!r}
EPOCHS = {epochs}
BATCH_SIZE = {batch_size}


def split(n, sizes, seed):  # {c[split]}
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    parts, start = [], 0
    for size in sizes:
        parts.append(order[start:start + size])
        start += size
    return parts


def build(n_in, hidden_sizes, n_out):
    layers, width = [], n_in
    for hidden in hidden_sizes:
        layers += [nn.Linear(width, hidden), {activation}]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def test(model, x, y):
    model.eval()
    with torch.no_grad():  # {c[no_grad]}
        out = model(x)
        return loss_fn(out, y).item(), None if y.is_floating_point() else (out.argmax(1) == y).float().mean().item()


def train(hidden_sizes, x, y, n_in, n_out):
    torch.manual_seed(SEED)  # {c[same_start]}
    model = build(n_in, hidden_sizes, n_out)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    train_set = TensorDataset(x, y)
    g = torch.Generator()
    # {c[loader]}
    sampler = RandomSampler(train_set, generator=g) if BATCH_SIZE < len(train_set) else None
    loader = DataLoader(train_set, batch_size=BATCH_SIZE, sampler=sampler)
    for epoch in range(EPOCHS):
        g.manual_seed(SEED + epoch)  # {c[reseed]}
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
    return model
'''

_TOY = '''

{make_toy2d}


x_np, y_np = make_toy2d({dataset!r}, {n_points}, {noise!r}, SEED)
X, Y = torch.from_numpy(x_np), torch.from_numpy(y_np)
third = {n_points} // 3
train_idx, val_idx, test_idx = split({n_points}, [{n_points} - 2 * third, third, third], SEED)
loss_fn = nn.CrossEntropyLoss()
'''

_CAPACITY = '''
results = []
for hidden_sizes in {shapes}:
    model = train(hidden_sizes, X[train_idx], Y[train_idx], 2, 2)
    train_loss, _ = test(model, X[train_idx], Y[train_idx])
    val_loss, val_acc = test(model, X[val_idx], Y[val_idx])
    params = sum(p.numel() for p in model.parameters())
    print(f"hidden {{hidden_sizes}} ({{params}} parameters): train loss = {{train_loss:.6f}}, "
          f"validation loss = {{val_loss:.6f}}")
    results.append((val_loss, hidden_sizes, model))

# {c[choose]}
val_loss, hidden_sizes, model = min(results, key=lambda r: r[0])
test_loss, test_acc = test(model, X[test_idx], Y[test_idx])
print(f"chosen {{hidden_sizes}}: test loss = {{test_loss:.6f}}, test accuracy = {{test_acc:.6f}}")
'''

_APPROXIMATION = '''
# {c[curve]}
g = torch.Generator().manual_seed(SEED)
X = torch.rand({points}, 1, generator=g) * 4 - 2
Y = torch.sin(3 * X)
train_idx, val_idx = split({points}, [{points} - {points} // 2, {points} // 2], SEED)
loss_fn = nn.MSELoss()
model = train([{units}], X[train_idx], Y[train_idx], 1, 1)
train_loss, _ = test(model, X[train_idx], Y[train_idx])
val_loss, _ = test(model, X[val_idx], Y[val_idx])
print(f"{units} units: train loss = {{train_loss:.6f}}, validation loss = {{val_loss:.6f}}")
# {c[pieces]}
with torch.no_grad():
    grid = torch.linspace(-2, 2, 9)[:, None]
    pieces = model[1](model[0](grid)) * model[2].weight[0]
    print("pieces at x = 0:", ", ".join(f"{{v:.4f}}" for v in pieces[4].tolist()))
'''

_DATA_SIZE = '''
# {c[sizes]}
for name, hidden_sizes in {models}.items():
    for n in {sizes}:
        model = train(hidden_sizes, X[train_idx[:n]], Y[train_idx[:n]], 2, 2)
        train_loss, _ = test(model, X[train_idx[:n]], Y[train_idx[:n]])
        val_loss, _ = test(model, X[val_idx], Y[val_idx])
        print(f"{{name}} {{hidden_sizes}}, {{n}} points: train loss = {{train_loss:.6f}}, "
              f"validation loss = {{val_loss:.6f}}")
'''


def export_code(p, lang: str = "en") -> str:
    from nnkit.experiments.overfitting import applies
    from nnkit.experiments.overfitting_capacity import APPROX_POINTS, DEPTHS, MODELS, TRAIN_SIZES, WIDTHS

    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    approx = p.section == "approximation"
    head = _HEAD.format(c={**c, "settings": c["settings"].format(section=p.section)}, settings=settings, seed=p.seed,
                        lr=p.approx_lr if approx else p.lr, epochs=p.approx_epochs if approx else p.epochs,
                        batch_size=APPROX_POINTS if approx else p.batch_size,
                        activation={"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}[
                            p.activation if approx else "relu"])
    if approx:
        return head + _APPROXIMATION.format(c=c, points=APPROX_POINTS, units=p.units)
    n_points = p.n_points if p.section == "capacity" else 3 * max(TRAIN_SIZES)
    toy = _TOY.format(make_toy2d=inspect.getsource(make_toy2d).strip(), dataset=p.dataset, n_points=n_points,
                      noise=p.noise)
    if p.section == "capacity":
        shapes = [[w] for w in WIDTHS] + [[p.depth_width] * d for d in DEPTHS if d > 1 or p.depth_width not in WIDTHS]
        return head + toy + _CAPACITY.format(c=c, shapes=shapes)
    return head + toy + _DATA_SIZE.format(c=c, models=dict(MODELS), sizes=list(TRAIN_SIZES))
