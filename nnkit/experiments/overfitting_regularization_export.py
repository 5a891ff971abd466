"""The early-stopping and regularization sections as self-contained PyTorch scripts.

They share overfitting_export's head (settings, split, build, test) and toy data, and train the
wide network epoch by epoch through a DataLoader with the page's order of batches, so they print the
numbers the page shows (tests/test_nnkit_overfitting_regularization.py). The regularization script
carries nnkit.norm_geometry's problem, ridge and lasso as source, for the two-weight picture.
"""

from __future__ import annotations

import inspect

from nnkit import norm_geometry
from nnkit.datasets.toy2d import make_toy2d
from nnkit.experiments import overfitting_export as shared
from nnkit.experiments.base import comments

COMMENTS = {
    "en": {
        "epochs": "Train one epoch at a time and hand the model back after each: the caller decides when to stop",
        "weights": "Penalties and weight decay act on the weight matrices only, not on the biases",
        "stopping": "Early stopping: an epoch improves when its validation loss is below best - MIN_DELTA; "
                    "after PATIENCE epochs in a row without improvement, stop",
        "restore": "The best epoch's weights, not the last ones, are the model to keep",
        "full": "For comparison: the same network trained for all the epochs, without stopping",
        "test": "The test set scores each kept model once, at the very end",
        "penalty": "lam * sum |w|^p added to the loss; the printed losses are the data loss alone",
        "near_zero": "the share of weights with |w| < NEAR_ZERO",
        "decay": "The L2 penalty (wd/2)*||w||^2 in the loss adds wd * w to the gradient, as SGD's weight_decay "
                 "does: the same trajectory. Adam divides that gradient by its running scale; AdamW shrinks the "
                 "weights apart from it (decoupled): a different trajectory",
        "geometry": "Two weights, a least-squares loss: the L1 and L2 penalised optima (exact, no training)",
    },
    "zh": {
        "epochs": "一次训练一轮,每轮结束后把模型交回:何时停止由调用者决定",
        "weights": "惩罚项和权重衰减只作用于权重矩阵,不作用于偏置",
        "stopping": "早停:某轮的验证损失低于 best - MIN_DELTA 才算改进;连续 PATIENCE 轮没有改进就停止",
        "restore": "要保留的是最佳一轮的权重,而不是最后一轮的",
        "full": "作为对比:同一个网络不停止,训练满全部轮数",
        "test": "测试集只在最后给每个保留下来的模型评分一次",
        "penalty": "在损失上加 lam * sum |w|^p;打印出的损失只是数据损失本身",
        "near_zero": "|w| < NEAR_ZERO 的权重所占比例",
        "decay": "损失里的 L2 惩罚 (wd/2)*||w||^2 给梯度加上 wd * w,与 SGD 的 weight_decay 相同:轨迹一样。"
                 "Adam 会用它的滑动尺度去除这个梯度;AdamW 则在此之外直接缩小权重(解耦):轨迹不同",
        "geometry": "两个权重、最小二乘损失:L1 与 L2 惩罚下的最优点(精确计算,无需训练)",
    },
}

_NETWORK = '''
WIDE = {wide}


def network():
    torch.manual_seed(SEED)
    return build(2, WIDE, 2)


def weights(model):  # {c[weights]}
    return [q for q in model.parameters() if q.ndim >= 2]


def epochs(model, optimizer, penalty=None, n_epochs=EPOCHS):  # {c[epochs]}
    train_set = TensorDataset(X[train_idx], Y[train_idx])
    g = torch.Generator()
    sampler = RandomSampler(train_set, generator=g) if BATCH_SIZE < len(train_set) else None
    loader = DataLoader(train_set, batch_size=BATCH_SIZE, sampler=sampler)
    for epoch in range(n_epochs):
        g.manual_seed(SEED + epoch)
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            if penalty is not None:
                loss = loss + penalty(model)
            loss.backward()
            optimizer.step()
        yield epoch
'''

_EARLY = '''
PATIENCE = {patience}
MIN_DELTA = {min_delta!r}

# {c[stopping]}
model = network()
best, best_epoch, best_state, wait, stopped_epoch = float("inf"), None, None, 0, None
for epoch in epochs(model, torch.optim.Adam(model.parameters(), lr=LR, fused=True)):
    val_loss, _ = test(model, X[val_idx], Y[val_idx])
    if val_loss < best - MIN_DELTA:
        best, best_epoch, best_state, wait = val_loss, epoch, copy.deepcopy(model.state_dict()), 0
    else:
        wait += 1
        if wait >= PATIENCE:
            stopped_epoch = epoch
            break
stopped_val, _ = test(model, X[val_idx], Y[val_idx])
print(f"best epoch = {{best_epoch + 1}}, validation loss = {{best:.6f}}")
stopped_at = stopped_epoch + 1 if stopped_epoch is not None else None
print(f"stopped epoch = {{stopped_at}}, validation loss = {{stopped_val:.6f}}")
# {c[test]}
stopped_loss, stopped_acc = test(model, X[test_idx], Y[test_idx])
model.load_state_dict(best_state)  # {c[restore]}
restored_loss, restored_acc = test(model, X[test_idx], Y[test_idx])
print(f"stopped weights: test loss = {{stopped_loss:.6f}}, test accuracy = {{stopped_acc:.6f}}")
print(f"restored weights: test loss = {{restored_loss:.6f}}, test accuracy = {{restored_acc:.6f}}")

# {c[full]}
model = network()
for epoch in epochs(model, torch.optim.Adam(model.parameters(), lr=LR, fused=True)):
    pass
print(f"all {{EPOCHS}} epochs: validation loss = {{test(model, X[val_idx], Y[val_idx])[0]:.6f}}")
'''

_REGULARIZATION = '''
P_NORM = {p_norm!r}
LAMBDAS = {lams}
WEIGHT_DECAY = {weight_decay!r}
SGD_LR = {sgd_lr!r}
DECAY_EPOCHS = {decay_epochs}
NEAR_ZERO = {near_zero!r}


def norm_penalty(p, lam):  # {c[penalty]}
    def penalty(model):
        return lam * torch.stack([{term} for w in weights(model)]).sum()
    return penalty


def groups(model, weight_decay):  # {c[weights]}
    decayed = weights(model)
    others = [q for q in model.parameters() if all(q is not w for w in decayed)]
    return [{{"params": decayed, "weight_decay": weight_decay}}, {{"params": others, "weight_decay": 0.0}}]


def report(name, model):
    w = torch.cat([q.detach().flatten() for q in weights(model)])
    near_zero = (w.abs() < NEAR_ZERO).float().mean().item()  # {c[near_zero]}
    print(f"{{name}}: train loss = {{test(model, X[train_idx], Y[train_idx])[0]:.6f}}, "
          f"validation loss = {{test(model, X[val_idx], Y[val_idx])[0]:.6f}}, near zero = {{near_zero:.6f}}")


for lam in [None] + LAMBDAS:
    model = network()
    penalty = None if lam is None else norm_penalty(P_NORM, lam)
    for epoch in epochs(model, torch.optim.Adam(model.parameters(), lr=LR, fused=True), penalty):
        pass
    report("no penalty" if lam is None else f"lam = {{lam!r}}", model)


def trajectory(optimizer_class, lr, penalty=None, weight_decay=0.0):
    model = network()
    params = groups(model, weight_decay) if weight_decay else model.parameters()
    snaps = [torch.cat([q.detach().flatten() for q in model.parameters()])
             for _ in epochs(model, optimizer_class(params, lr=lr, fused=True), penalty, DECAY_EPOCHS)]
    return torch.stack(snaps), test(model, X[val_idx], Y[val_idx])[0]


# {c[decay]}
l2 = norm_penalty(2, WEIGHT_DECAY / 2)
for name, (with_l2, decayed, lr) in {{"sgd": (torch.optim.SGD, torch.optim.SGD, SGD_LR),
                                      "adam": (torch.optim.Adam, torch.optim.AdamW, LR)}}.items():
    a, val_a = trajectory(with_l2, lr, penalty=l2)
    b, val_b = trajectory(decayed, lr, weight_decay=WEIGHT_DECAY)
    print(f"{{name}}: max |difference| = {{(a - b).abs().max().item():.9f}}, "
          f"validation loss = {{val_a:.6f}} (L2 in the loss), {{val_b:.6f}} (weight_decay)")

# {c[geometry]}
{geometry}


x, y = problem(SEED)
l1, l2 = lasso(x, y, {geo_lam!r}), ridge(x, y, {geo_lam!r})
print(f"L1 optimum = ({{l1[0]:.6f}}, {{l1[1]:.6f}}), L2 optimum = ({{l2[0]:.6f}}, {{l2[1]:.6f}})")
zeros = [lam for lam in np.round(np.linspace(0.0, 1.5, 61), 6) if (lasso(x, y, lam) == 0).any()]
print(f"L1 has an exact zero from lam = {{zeros[0] if zeros else None}}")
'''


def _term(p: float) -> str:
    """nnkit.regularize.norm_penalty's term, written the way it computes it (the same rounding)."""
    return "(w * w).sum()" if p == 2 else "w.abs().sum()" if p == 1 else "w.abs().pow(p).sum()"


def export_code(p, lang: str = "en") -> str:
    from nnkit.experiments.overfitting import applies
    from nnkit.experiments.overfitting_regularization import DECAY_EPOCHS, LAMBDAS, NEAR_ZERO, SGD_LR, WIDE

    c = {**comments(shared.COMMENTS, lang), **comments(COMMENTS, lang)}
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    # the head without its train(): these scripts train epoch by epoch
    head = shared._HEAD[:shared._HEAD.index("\n\ndef train(")].format(
        c={**c, "settings": c["settings"].format(section=p.section)}, settings=settings, seed=p.seed, lr=p.lr,
        epochs=p.epochs, batch_size=p.batch_size, activation="nn.ReLU()")
    head = head.replace("import numpy as np\n", "import copy\n\nimport numpy as np\n", 1)
    toy = shared._TOY.format(make_toy2d=inspect.getsource(make_toy2d).strip(), dataset=p.dataset,
                             n_points=p.n_points, noise=p.noise)
    code = head + toy + _NETWORK.format(c=c, wide=WIDE)
    if p.section == "early_stopping":
        return code + _EARLY.format(c=c, patience=p.patience, min_delta=p.min_delta)
    geometry = "\n\n\n".join(inspect.getsource(f).strip() for f in (norm_geometry.problem, norm_geometry.ridge,
                                                                     norm_geometry.lasso))
    return code + _REGULARIZATION.format(c=c, p_norm=p.p_norm, lams=sorted(set(LAMBDAS) | {p.lam}),
                                         weight_decay=p.weight_decay, sgd_lr=SGD_LR, decay_epochs=DECAY_EPOCHS,
                                         near_zero=NEAR_ZERO,
                                         term=_term(p.p_norm), geometry=geometry, geo_lam=p.geo_lam)
