"""The Classification experiment as a self-contained PyTorch script (the pytorch/examples shape).

It repeats nnkit's steps in the same order: the same split of the data, the initial weights from
the same seed, each epoch shuffled by a generator seeded with seed + epoch, so it reaches the
accuracy the page shows; tests/test_export_classification.py checks it.
"""

from __future__ import annotations

from dataclasses import asdict

from nnkit.activations import ACTIVATIONS
from nnkit.datasets.images import DIGITS_SEED, DIGITS_TEST_FRACTION

_DIGITS = '''def load_data():
    """scikit-learn's real 8x8 handwritten digits, the same stratified 80/20 split as the app."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.floor(bunch.images * (255.0 / 16.0) + 0.5).clip(0, 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    rng = np.random.default_rng({seed})
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test[rng.permutation(members)[:int(round(len(members) * {fraction}))]] = True
    return ((torch.from_numpy(images[~test].copy()), torch.from_numpy(labels[~test].copy())),
            (torch.from_numpy(images[test].copy()), torch.from_numpy(labels[test].copy())))
'''

_TORCHVISION = '''def load_data():
    """{cls} through torchvision (downloads into ./data the first time)."""
    from torchvision import datasets

    train = datasets.{cls}("data", train=True, download=True)
    test = datasets.{cls}("data", train=False, download=True)
    return (train.data, train.targets), (test.data, test.targets)
'''

_SCRIPT = '''"""NN Playground - Classification, exported with these settings:
{settings}
Needs torch and numpy{needs}.
"""
import numpy as np
import torch
from torch import nn

SEED = {seed}
EPOCHS = {epochs}
BATCH_SIZE = {batch_size}
LR = {lr!r}
device = "cuda" if torch.cuda.is_available() else "cpu"


{load_data}

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
        x = x.view(-1, self.input_size)  # (batch, H, W) -> (batch, H*W)
        return self.layers(x)  # logits: CrossEntropyLoss applies the softmax itself


(train_x, train_y), (test_x, test_y) = load_data()
train_x, train_y = train_x.to(device).float() / 255, train_y.to(device)  # the whole set on the device, once
test_x, test_y = test_x.to(device).float() / 255, test_y.to(device)
input_size = train_x.shape[1] * train_x.shape[2]

torch.manual_seed(SEED)
model = Net(input_size, {hidden_sizes}, 10).to(device)
optimizer = torch.optim.{optimizer}(model.parameters(), lr=LR, fused=True)  # one kernel per step (torch >= 2.4)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(SEED + epoch)).to(device)
    for i in range(0, len(train_x), BATCH_SIZE):  # the training set shuffled, batch by batch
        idx = order[i:i + BATCH_SIZE]
        optimizer.zero_grad()
        loss = loss_fn(model(train_x[idx]), train_y[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():  # the test set: never shuffled, never trained on
        accuracy = (model(test_x).argmax(dim=1) == test_y).double().mean().item()
    print(f"epoch {{epoch + 1}}: test accuracy = {{accuracy:.6f}}")

torch.save(model.state_dict(), "model_state_dict.pt")
print("saved model_state_dict.pt")
'''

_CLASSES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def export_code(p, lang: str = "en") -> str:
    settings = "\n".join(f"    {k} = {v!r}" for k, v in asdict(p).items())
    if p.dataset == "digits":
        load_data, needs = _DIGITS.format(seed=DIGITS_SEED, fraction=DIGITS_TEST_FRACTION), " and scikit-learn"
    else:
        load_data, needs = _TORCHVISION.format(cls=_CLASSES[p.dataset]), " and torchvision"
    return _SCRIPT.format(settings=settings, needs=needs, seed=p.seed, epochs=p.epochs, batch_size=p.batch_size,
                          lr=p.lr, load_data=load_data, activation=ACTIVATIONS[p.activation].code.format(slope=0.01),
                          hidden_sizes=list(p.hidden_sizes), optimizer={"adam": "Adam", "sgd": "SGD"}[p.optimizer])
