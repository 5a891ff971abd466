"""The Dropout experiment as a self-contained PyTorch script, one per section.

The course's code in four parts: data generation, a model with `nn.Dropout`, training, and what the
page plots (printed as numbers). The script draws the same points (make_toy2d's own source, the
same seeded shuffles; for the digits, the Overfitting page's export's own loading and split), builds each network from the same seed and trains it with the same batches:
dropout draws its masks from torch's global generator, seeded once before the network is built,
exactly as nnkit does, so the script prints the numbers the page shows (tests/test_nnkit_dropout.py).
Comments follow the page's language (`COMMENTS`); what it prints stays in English.
"""

from __future__ import annotations

import inspect

from nnkit.datasets.toy2d import make_toy2d
from nnkit.experiments.base import comments
from nnkit.experiments.overfitting_validation_export import COMMENTS as DIGIT_COMMENTS, digits_code

COMMENTS = {
    "en": {
        "settings": "NN Playground - Dropout ({section}), exported with these settings:",
        "needs": "Needs {needs}.",
        "data": "1. Data: a small noisy toy set, shuffled once and cut into training, validation and test thirds",
        "model": "2. The model: nn.Dropout(p) after each hidden activation; p is the DROP probability",
        "seed": "the seed fixes the initial weights and, after them, every dropout mask of the training",
        "train": "3. Training: model.train() switches dropout on; each epoch's batch order depends on its number alone",
        "eval": "dropout off (and no gradients are needed to test)",
        "results": "4. What the page plots",
        "modes": "The same input twenty times in train mode, then once in eval mode",
        "unsure": "the test point the network is least sure about",
        "forgot": "Scoring the test set with dropout still on (model.eval() forgotten)",
        "layer": "Keep vs drop probability on the first hidden layer's outputs h for the same input",
        "inverted": "PyTorch (inverted dropout): train h * mask / (1 - p), test h",
        "original": "The original paper and the course: train h * mask, test h * p_keep with p_keep = 1 - p",
        "mc": "Monte Carlo dropout: average the predictions of K thinned networks (train mode)",
        "masks": "Each training forward pass keeps every unit with probability 1 - p: 1 kept, 0 dropped",
        "flat": "One row of 64 pixels in [0, 1] per image: the training subset, then validation, then test",
        "classes": "one logit per class: 2 for a toy set, 10 for the digits",
    },
    "zh": {
        "settings": "NN Playground - Dropout({section}),导出时的设置:",
        "needs": "需要 {needs}。",
        "data": "1. 数据生成:一个带噪声的小型玩具数据集,打乱一次后三等分为训练集、验证集和测试集",
        "model": "2. 模型定义:每个隐藏层的激活函数后面接 nn.Dropout(p);p 是丢弃概率",
        "seed": "种子决定初始权重,也决定之后训练中的每一个 dropout 掩码",
        "train": "3. 模型训练:model.train() 打开 dropout;每轮的小批量顺序只取决于轮次",
        "eval": "关闭 dropout(测试时也不用计算梯度)",
        "results": "4. 可视化:页面画出的数字",
        "modes": "同一个输入在训练模式下前向传播二十次,再在评估模式下传播一次",
        "unsure": "网络最拿不准的那个测试点",
        "forgot": "在 dropout 仍然打开时给测试集打分(忘了调用 model.eval())",
        "layer": "同一个输入下第一个隐藏层的输出 h:保留概率与丢弃概率两种写法",
        "inverted": "PyTorch(反向 dropout):训练时 h * mask / (1 - p),测试时 h",
        "original": "原始论文和课程:训练时 h * mask,测试时 h * p_keep,其中 p_keep = 1 - p",
        "mc": "蒙特卡洛 dropout:对 K 个稀疏网络(训练模式)的预测取平均",
        "masks": "每次训练前向传播时,每个单元以 1 - p 的概率保留:1 表示保留,0 表示丢弃",
        "flat": "每张图像展平成一行 64 个 [0, 1] 之间的像素:依次是训练子集、验证集、测试集",
        "classes": "每个类别一个 logit:玩具数据集 2 个,手写数字 10 个",
    },
}

_HEAD = '''"""{c[settings]}
{settings}
{c[needs]}
"""
{numpy}import torch
from torch import nn

SEED = {seed}
'''

_CONSTANTS = '''LR = {lr!r}
EPOCHS = {epochs}
BATCH_SIZE = {batch_size}
HIDDEN = {hidden}
'''

_TOY = '''

{make_toy2d}


# {c[data]}
x_np, y_np = make_toy2d({dataset!r}, {n_points}, {noise!r}, SEED)
X, Y = torch.from_numpy(x_np), torch.from_numpy(y_np)
third = {n_points} // 3
order = torch.randperm({n_points}, generator=torch.Generator().manual_seed(SEED))
train_idx, val_idx, test_idx = order.split([{n_points} - 2 * third, third, third])
'''

_DIGITS = '''SUBSET = {subset}

{digits}
# {c[flat]}
X = torch.cat([train_x[subset], train_x[val_idx], test_x]).flatten(1).float() / 255
Y = torch.cat([train_y[subset], train_y[val_idx], test_y])
train_idx, val_idx, test_idx = torch.arange(len(Y)).split([len(subset), len(val_idx), len(test_y)])
'''

_TRAINED = '''loss_fn = nn.CrossEntropyLoss()


# {c[model]}
def build(rate):
    layers, width = [], X.shape[1]
    for hidden in HIDDEN:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        if rate > 0:
            layers.append(nn.Dropout(rate))
        width = hidden
    layers.append(nn.Linear(width, int(Y.max()) + 1))  # {c[classes]}
    return nn.Sequential(*layers)


def test(model, x, y):
    model.eval()  # {c[eval]}
    with torch.no_grad():
        out = model(x)
        return loss_fn(out, y).item(), (out.argmax(1) == y).float().mean().item()


# {c[train]}
def train(rate):
    torch.manual_seed(SEED)  # {c[seed]}
    model = build(rate)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    x, y = X[train_idx], Y[train_idx]
    val_losses = []
    for epoch in range(EPOCHS):
        model.train()
        if BATCH_SIZE >= len(x):
            batches = [torch.arange(len(x))]
        else:
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SEED + epoch))
            batches = order.split(BATCH_SIZE)
        for idx in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
        val_losses.append(test(model, X[val_idx], Y[val_idx])[0])
    return model, val_losses


def report(rate, model, val_losses):
    train_loss, _ = test(model, X[train_idx], Y[train_idx])
    val_loss, val_acc = test(model, X[val_idx], Y[val_idx])
    print(f"rate {{rate}}: train loss = {{train_loss:.6f}}, validation loss = {{val_loss:.6f}}, "
          f"validation accuracy = {{val_acc:.6f}}, best validation loss = {{min(val_losses):.6f}}")
'''

_COMPARE = '''

# {c[results]}
for rate in {rates}:
    model, val_losses = train(rate)
    report(rate, model, val_losses)
'''

_TRAIN_EVAL = '''

# {c[results]}
RATE = {rate!r}
model, val_losses = train(RATE)
report(RATE, model, val_losses)
model.eval()
with torch.no_grad():
    unsure = (torch.softmax(model(X[test_idx]), 1)[:, 1] - 0.5).abs().argmin()  # {c[unsure]}
point = X[test_idx][unsure:unsure + 1]
# {c[modes]}
model.train()
torch.manual_seed(SEED)
with torch.no_grad():
    outs = [torch.softmax(model(point), 1)[0, 1].item() for _ in range({passes})]
    print("train mode:", ", ".join(f"{{v:.6f}}" for v in outs))
    model.eval()
    print(f"eval mode: {{torch.softmax(model(point), 1)[0, 1].item():.6f}}")
# {c[forgot]}
model.train()
torch.manual_seed(SEED)
with torch.no_grad():
    accs = [(model(X[test_idx]).argmax(1) == Y[test_idx]).float().mean().item() for _ in range({repeats})]
print("test accuracy, dropout left on:", ", ".join(f"{{a:.6f}}" for a in accs))
print(f"test accuracy, eval mode: {{test(model, X[test_idx], Y[test_idx])[1]:.6f}}")
# {c[layer]}
with torch.no_grad():
    h = model[1](model[0](point))[0]
masks = torch.empty({samples}, len(h)).bernoulli_(1 - RATE, generator=torch.Generator().manual_seed(SEED))
p_keep = 1 - RATE
# {c[inverted]}
inverted = (h * masks / (1 - RATE)).mean(0)
# {c[original]}
original = (h * masks).mean(0)
print(f"inverted: max |E[train] - test| = {{(inverted - h).abs().max().item():.6f}}")
print(f"original: max |E[train] - test| = {{(original - h * p_keep).abs().max().item():.6f}}")
'''

_ENSEMBLE = '''

# {c[results]}
RATE = {rate!r}
model, val_losses = train(RATE)
report(RATE, model, val_losses)
# {c[mc]}
x, y = X[val_idx], Y[val_idx]
model.eval()
with torch.no_grad():
    eval_p = torch.softmax(model(x), 1)
model.train()
torch.manual_seed(SEED)
with torch.no_grad():
    passes = torch.stack([torch.softmax(model(x), 1) for _ in range({k_max})])
for k in {ks}:
    mean = passes[:k].mean(0)
    acc = (mean.argmax(1) == y).float().mean().item()
    print(f"K = {{k}}: validation accuracy = {{acc:.6f}}")
print(f"eval mode: validation accuracy = {{(eval_p.argmax(1) == y).float().mean().item():.6f}}")
'''

_MASKS = '''
# {c[masks]}
SIZES = {sizes}
RATES = {rates}
g = torch.Generator().manual_seed(SEED)
for n in range({passes}):
    masks = [torch.empty(size).bernoulli_(1 - rate, generator=g).int().tolist() for size, rate in zip(SIZES, RATES)]
    print(f"pass {{n + 1}}:", " | ".join("".join(map(str, m)) for m in masks))
'''


def export_code(p, lang: str = "en") -> str:
    from nnkit.experiments.dropout import applies
    from nnkit.experiments.dropout_compare import digits, epochs_of
    from nnkit.experiments.dropout_inside import KS, REPEATS, TRAIN_PASSES

    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {getattr(p, k)!r}" for k in applies(p))
    masks = p.section == "masks"
    needs = "torch" if masks else ("torch 和 numpy" if lang == "zh" else "torch and numpy")
    if digits(p) and not masks:
        needs = "torch、numpy 和 scikit-learn" if lang == "zh" else "torch, numpy and scikit-learn"
    c = {**c, "settings": c["settings"].format(section=p.section), "needs": c["needs"].format(needs=needs)}
    head = _HEAD.format(c=c, settings=settings, seed=p.seed, numpy="" if masks else "import numpy as np\n")
    if masks:
        return head + _MASKS.format(c=c, sizes=[p.units] * len(p.layer_rates), rates=list(p.layer_rates),
                                    passes=p.passes)
    constants = _CONSTANTS.format(lr=p.lr, epochs=epochs_of(p), batch_size=p.batch_size, hidden=[p.width] * p.depth)
    if digits(p):
        data = _DIGITS.format(c=c, subset=p.subset, digits=digits_code({**comments(DIGIT_COMMENTS, lang), **c}, lang))
    else:
        data = _TOY.format(c=c, make_toy2d=inspect.getsource(make_toy2d).strip(), dataset=p.dataset,
                           n_points=p.n_points, noise=p.noise)
    trained = constants + data + _TRAINED.format(c=c)
    if p.section == "compare_rates":
        return head + trained + _COMPARE.format(c=c, rates=list(p.rates))
    if p.section == "train_eval":
        return head + trained + _TRAIN_EVAL.format(c=c, rate=p.rate, passes=TRAIN_PASSES, repeats=REPEATS,
                                                   samples=p.samples)
    return head + trained + _ENSEMBLE.format(c=c, rate=p.rate, k_max=max(KS), ks=list(KS))
