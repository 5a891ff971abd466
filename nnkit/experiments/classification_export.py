"""The Classification experiment as a self-contained PyTorch script (the pytorch/examples shape).

It repeats nnkit's steps in the same order: the same split of the data into training, validation
and test images, the initial weights from the same seed, each epoch shuffled by a generator seeded
with seed + epoch, so it prints the numbers the page shows; tests/test_export.py checks it.
Its comments are in the page's language (`lang`, "en" or "zh").
"""

from __future__ import annotations

from nnkit.activations import ACTIVATIONS
from nnkit.experiments import digits_export
from nnkit.experiments.base import comments

COMMENTS = {
    "en": {
        "needs": "Needs torch, numpy and {extra}.",
        "torchvision": "{cls} through torchvision (downloads into ./data the first time).",
        "flatten": "(batch, H, W) -> (batch, H*W): one row per image",
        "logits": "logits: the loss applies the softmax itself",
        "mse": "MSE between the softmax probabilities and one-hot targets: a regression loss used to classify",
        "device": "the whole set on the device, once",
        "loader": "shuffle=True does the same with RandomSampler; given to the sampler alone, the generator "
                  "draws only the order (DataLoader(..., generator=g) would also draw a worker seed from it)",
        "fused": "one kernel per step (torch >= 2.4)",
        "reseed": "epoch e's order depends on e alone, as on the page",
        "score": "loss and accuracy of a whole set, in eval mode, without gradients",
        "watch": "training and validation scored the same way, after each epoch",
        "test": "the test set, scored once, at the end: never used to choose anything",
    },
    "zh": {
        "needs": "需要 torch、numpy 和 {extra}。",
        "torchvision": "通过 torchvision 加载 {cls}(第一次运行时下载到 ./data)。",
        "flatten": "(批量, 高, 宽) -> (批量, 高*宽):每张图像一行",
        "logits": "logits:损失函数内部会做 softmax",
        "mse": "softmax 概率与 one-hot 目标之间的 MSE:把回归的损失拿来做分类",
        "device": "整个数据集一次性放到设备上",
        "loader": "shuffle=True 也是用 RandomSampler 做的;生成器只交给采样器时,它只用来抽取顺序"
                  "(DataLoader(..., generator=g) 还会从它抽取一个 worker 种子)",
        "fused": "每一步只调用一个内核(torch >= 2.4)",
        "reseed": "第 e 轮的顺序只取决于 e,与页面上相同",
        "score": "在 eval 模式、不计算梯度的情况下,求整个数据集的损失和准确率",
        "watch": "每轮结束后,用同样的方式给训练集和验证集评分",
        "test": "测试集只在最后评分一次:从不用它来做任何选择",
    },
}

_TORCHVISION = '''def load_data():
    """{torchvision}"""
    from torchvision import datasets

    train = datasets.{cls}("data", train=True, download=True)
    test = datasets.{cls}("data", train=False, download=True)
    return (train.data, train.targets), (test.data, test.targets)
'''

_MSE = '''

def one_hot_mse(logits, labels):  # {c[mse]}
    target = nn.functional.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return nn.functional.mse_loss(torch.softmax(logits, dim=1), target)
'''

_SCRIPT = '''"""NN Playground - Classification, exported with these settings:
{settings}
{needs}
"""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

SEED = {seed}
EPOCHS = {epochs}
BATCH_SIZE = {batch_size}
LR = {lr!r}
VAL_FRACTION = {val_fraction!r}
device = "cuda" if torch.cuda.is_available() else "cpu"


{load_data}

{validation_split}

class Net(nn.Module):
    def __init__(self, input_size, hidden_sizes, n_classes):
        super().__init__()
        self.input_size = input_size
        layers, width = [], input_size
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), {activation}]
            width = hidden
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        x = x.view(-1, self.input_size)  # {c[flatten]}
        return self.layers(x)  # {c[logits]}
{mse}

def score(model, x, y):  # {c[score]}
    model.eval()
    with torch.no_grad():
        logits = model(x)
        return loss_fn(logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item()


(images, labels), (test_x, test_y) = load_data()
train_idx, val_idx = validation_split(labels, VAL_FRACTION, SEED)
to_device = lambda x, y: (x.to(device).float() / 255, y.to(device))  # {c[device]}
train_x, train_y = to_device(images[train_idx], labels[train_idx])
val_x, val_y = to_device(images[val_idx], labels[val_idx])
test_x, test_y = to_device(test_x, test_y)
input_size = train_x.shape[1] * train_x.shape[2]

train_set = TensorDataset(train_x, train_y)
g = torch.Generator()
# {c[loader]}
train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, sampler=RandomSampler(train_set, generator=g))

torch.manual_seed(SEED)
model = Net(input_size, {hidden_sizes}, 10).to(device)
optimizer = torch.optim.{optimizer}(model.parameters(), lr=LR, fused=True)  # {c[fused]}
loss_fn = {loss_fn}

for epoch in range(EPOCHS):
    g.manual_seed(SEED + epoch)  # {c[reseed]}
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    # {c[watch]}
    train_loss, train_acc = score(model, train_x, train_y)
    val_loss, val_acc = score(model, val_x, val_y)
    print(f"epoch {{epoch + 1}}: train accuracy = {{train_acc:.6f}}, validation accuracy = {{val_acc:.6f}}, "
          f"train loss = {{train_loss:.6f}}, validation loss = {{val_loss:.6f}}")

test_loss, test_acc = score(model, test_x, test_y)  # {c[test]}
print(f"test accuracy = {{test_acc:.6f}}, test loss = {{test_loss:.6f}}")
torch.save(model.state_dict(), "model_state_dict.pt")
print("saved model_state_dict.pt")
'''

_CLASSES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def applying(p) -> dict:
    """The settings that change what the script does: no width or activation without a hidden layer."""
    names = ["dataset", "hidden_layers", "hidden_size", "activation", "optimizer", "lr", "batch_size", "epochs",
             "val_fraction", "loss", "seed"]
    if p.hidden_layers == 0:
        names = [n for n in names if n not in ("hidden_size", "activation")]
    return {name: getattr(p, name) for name in names}


def export_code(p, lang: str = "en") -> str:
    c = comments(COMMENTS, lang)
    settings = "\n".join(f"    {k} = {v!r}" for k, v in applying(p).items())
    if p.dataset == "digits":
        load_data, extra = digits_export.load_data(lang), "scikit-learn"
    else:
        cls = _CLASSES[p.dataset]
        load_data, extra = _TORCHVISION.format(torchvision=c["torchvision"].format(cls=cls), cls=cls), "torchvision"
    needs = c["needs"].format(extra=extra)
    return _SCRIPT.format(c=c, settings=settings, needs=needs, seed=p.seed, epochs=p.epochs, batch_size=p.batch_size,
                          lr=p.lr, val_fraction=p.val_fraction, load_data=load_data,
                          validation_split=digits_export.validation_split(lang),
                          activation=ACTIVATIONS[p.activation].code.format(slope=0.01),
                          hidden_sizes=list(p.hidden_sizes), optimizer={"adam": "Adam", "sgd": "SGD"}[p.optimizer],
                          mse=_MSE.format(c=c) if p.loss == "mse" else "",
                          loss_fn="one_hot_mse" if p.loss == "mse" else "nn.CrossEntropyLoss()")
