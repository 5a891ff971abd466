"""The validation sections as self-contained PyTorch scripts that print the numbers the page shows.

"validation" reuses the toy-set head of overfitting_export.py (the same points, the same seeded
networks, batches in the same order) and cuts the folds with scikit-learn's StratifiedKFold, as
nnkit.kfold does. "augmentation" loads scikit-learn's digits, makes the same test and validation
split and the same subset, and draws each epoch's shifted, turned and scaled copies with the same
generator and the same torchvision call as nnkit.augment.
"""

from __future__ import annotations

import inspect

from nnkit.datasets.toy2d import make_toy2d
from nnkit.experiments import digits_export
from nnkit.experiments.base import comments
from nnkit.experiments.overfitting_export import _HEAD, _TOY, COMMENTS as SHARED

COMMENTS = {
    "en": {
        "pool": "K-fold cuts every non-test point; the test set stays out of all of it",
        "stratified": "stratified: each fold keeps the two classes' shares",
        "occam": "Occam's razor: the smallest width whose mean is within one standard error of the best mean "
                 "(the standard error: the folds' sample standard deviation over sqrt(K))",
        "refit": "The chosen width, retrained on every non-test point, meets the test set once",
        "val": "The validation images: 20% of each digit of the training images, drawn by the seed",
        "subset": "The small training subset: the first SUBSET of the other training images, in a seeded order",
        "augment": "Each image gets its own angle, whole-pixel shift and scale: a v2 transform given a batch "
                   "would draw one set for all of it",
        "fresh": "fresh copies every epoch, drawn with SEED + epoch",
        "test_once": "Both compared on validation; the test set scores each once, at the very end",
    },
    "zh": {
        "pool": "K 折交叉验证切分所有非测试点;测试集完全不参与",
        "stratified": "分层:每一折保持两个类别的比例",
        "occam": "奥卡姆剃刀:在平均值距最佳平均值不超过一个标准误差的宽度中取最小的"
                 "(标准误差:各折的样本标准差除以 sqrt(K))",
        "refit": "选中的宽度在全部非测试点上重新训练,然后只在测试集上评分一次",
        "val": "验证图像:训练图像中每个数字的 20%,由种子抽取",
        "subset": "小训练子集:其余训练图像按种子打乱后的前 SUBSET 张",
        "augment": "每张图像有自己的角度、整像素平移和缩放:把一批图像交给 v2 变换,整批只会抽一组参数",
        "fresh": "每轮都重新生成副本,种子为 SEED + epoch",
        "test_once": "两个网络在验证集上比较;测试集只在最后为每个网络评分一次",
    },
}

_KFOLD = '''from sklearn.model_selection import StratifiedKFold

# {c[pool]}
pool = torch.cat([train_idx, val_idx])
splitter = StratifiedKFold(n_splits={folds}, shuffle=True, random_state=SEED)  # {c[stratified]}
folds = [(torch.from_numpy(tr), torch.from_numpy(va)) for tr, va in splitter.split(np.zeros(len(pool)), Y[pool].numpy())]
widths, means, errors = {widths}, [], []
for width in widths:
    scores = []
    for fold, (tr, va) in enumerate(folds):
        model = train([width], X[pool[tr]], Y[pool[tr]], 2, 2)
        val_loss, _ = test(model, X[pool[va]], Y[pool[va]])
        scores.append(val_loss)
        print(f"width {{width}}, fold {{fold + 1}}: validation loss = {{val_loss:.6f}}")
    means.append(float(np.mean(scores)))
    errors.append(float(np.std(scores)) / np.sqrt(len(scores) - 1))
    print(f"width {{width}}: mean = {{means[-1]:.6f}}, standard error = {{errors[-1]:.6f}}")

# {c[occam]}
best = int(np.argmin(means))
chosen = next(w for w, m in zip(widths, means) if m <= means[best] + errors[best])
# {c[refit]}
model = train([chosen], X[pool], Y[pool], 2, 2)
test_loss, test_acc = test(model, X[test_idx], Y[test_idx])
print(f"best width {{widths[best]}}, chosen width {{chosen}}: test loss = {{test_loss:.6f}}, "
      f"test accuracy = {{test_acc:.6f}}")
'''

# The digits, their validation images and the seeded subset, as nnkit.experiments.overfitting_validation
# .digit_parts makes them (needs SEED and SUBSET; the Dropout page's export reuses it too)
DIGITS = '''{load_data}

{validation_split}

(train_x, train_y), (test_x, test_y) = load_data()
# {c[val]}
rest, val_idx = validation_split(train_y, {val_fraction!r}, SEED)
# {c[subset]}
subset = rest[torch.randperm(len(rest), generator=torch.Generator().manual_seed(SEED))[:SUBSET]]
'''

_AUGMENTATION = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as F

SEED = {seed}
EPOCHS = {epochs}
LR = {lr!r}
BATCH_SIZE = {batch_size}
DEGREES, SHIFT, SCALE = {degrees!r}, {shift}, {scale!r}
SUBSET = {subset}

{digits}

def augment(images, seed):  # {c[augment]}
    g = torch.Generator().manual_seed(seed)
    n = len(images)
    angles = (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * DEGREES
    shifts = torch.randint(-SHIFT, SHIFT + 1, (n, 2), generator=g)
    scales = 1 + (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * SCALE
    out = images.clone()
    for i in range(n):
        if float(angles[i]) != 0 or shifts[i].any() or float(scales[i]) != 1:
            out[i] = F.affine(images[i][None], angle=float(angles[i]), translate=[float(v) for v in shifts[i]],
                              scale=float(scales[i]), shear=[0.0, 0.0], interpolation=InterpolationMode.BILINEAR,
                              fill=0)[0]
    return out


def as_float(images):
    return images.float() / 255


def test(model, x, y):
    model.eval()
    with torch.no_grad():  # {c[no_grad]}
        out = model(as_float(x))
        return loss_fn(out, y).item(), (out.argmax(1) == y).float().mean().item()


def train(augmented):
    torch.manual_seed(SEED)  # {c[same_start]}
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, {hidden}), nn.ReLU(), nn.Linear({hidden}, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    x, y = train_x[subset], train_y[subset]
    g = torch.Generator()
    for epoch in range(EPOCHS):
        seen = augment(x, SEED + epoch) if augmented else x  # {c[fresh]}
        train_set = TensorDataset(as_float(seen), y)
        loader = DataLoader(train_set, batch_size=BATCH_SIZE, sampler=RandomSampler(train_set, generator=g))
        g.manual_seed(SEED + epoch)  # {c[reseed]}
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
    return model, seen, y


loss_fn = nn.CrossEntropyLoss()
# {c[test_once]}
for name in ("plain", "augmented"):
    model, seen, y = train(name == "augmented")
    train_loss, _ = test(model, seen, y)
    val_loss, val_acc = test(model, train_x[val_idx], train_y[val_idx])
    test_loss, test_acc = test(model, test_x, test_y)
    print(f"{{name}}: train loss = {{train_loss:.6f}}, validation loss = {{val_loss:.6f}}, "
          f"validation accuracy = {{val_acc:.6f}}, test loss = {{test_loss:.6f}}, test accuracy = {{test_acc:.6f}}")
'''


def digits_code(c: dict, lang: str) -> str:
    """DIGITS with its constants and comments (`c` holds the val and subset comments)."""
    from nnkit.experiments.overfitting_validation import VAL_FRACTION

    return DIGITS.format(c=c, load_data=digits_export.load_data(lang),
                         validation_split=digits_export.validation_split(lang), val_fraction=VAL_FRACTION)


def export_code(p, lang: str = "en") -> str:
    from nnkit.experiments.overfitting import applies
    from nnkit.experiments import overfitting_validation as V

    c = {**comments(SHARED, lang), **comments(COMMENTS, lang)}
    c["settings"] = c["settings"].format(section=p.section)
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    if p.section == "augmentation":
        return _AUGMENTATION.format(
            c={**c, "needs": c["needs"].replace("numpy", "numpy, torchvision, scikit-learn")}, settings=settings,
            seed=p.seed, epochs=p.aug_epochs, lr=V.AUG_LR, batch_size=V.AUG_BATCH, degrees=float(p.degrees),
            shift=p.shift, scale=float(p.scale), subset=p.subset, digits=digits_code(c, lang), hidden=V.AUG_HIDDEN)
    head = _HEAD.format(c={**c, "needs": c["needs"].replace("numpy", "numpy, scikit-learn")}, settings=settings,
                        seed=p.seed, lr=p.lr, epochs=p.epochs, batch_size=p.batch_size, activation="nn.ReLU()")
    toy = _TOY.format(make_toy2d=inspect.getsource(make_toy2d).strip(), dataset=p.dataset, n_points=p.n_points,
                      noise=p.noise)
    return head + toy + _KFOLD.format(c=c, folds=p.folds, widths=list(V.CANDIDATES))
