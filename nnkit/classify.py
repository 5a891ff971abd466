"""Classifying images: the network, a training run that can stop and resume, and its evaluation.

The course's workflow, each step in one place: data as tensors on the device, a network that
flattens its input, cross-entropy and an optimizer, `fit` for training (training set shuffled; the
training and validation sets scored at the end of each epoch), evaluation under `model.eval()` and
`torch.no_grad()`, and the test set scored once, when asked, apart from everything chosen by looking.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from nnkit.device import seeded
from nnkit.models import mlp
from nnkit.optim import make_optimizer
from nnkit.train import FitResult, evaluate, fit


class DigitNet(nn.Module):
    """An MLP on images. With no hidden layer it is softmax regression: one Linear layer."""

    def __init__(self, input_size: int, hidden_sizes: tuple[int, ...], n_classes: int, activation: str = "relu"):
        super().__init__()
        self.input_size = input_size
        self.layers = mlp(input_size, list(hidden_sizes), n_classes, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (batch, 28, 28) -> (batch, 784): a Linear layer takes one vector per sample
        x = x.view(-1, self.input_size)
        return self.layers(x)  # logits: CrossEntropyLoss applies log-softmax itself


def as_tensors(images: torch.Tensor, labels: torch.Tensor, device) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images -> float32 in [0, 1] on the device, once: batches are then slices by index."""
    return images.to(device).float().div_(255), labels.to(device)


@dataclass
class Evaluation:
    accuracy: float
    loss: float
    per_class: np.ndarray  # accuracy of each class
    confusion: np.ndarray  # confusion[true, predicted] = count
    predicted: np.ndarray
    probabilities: np.ndarray  # (n_images, n_classes)


_RUN_IDS = itertools.count()


@dataclass
class TrainingRun:
    """A model, its optimizer and everything it went through: trained a few epochs at a time."""

    model: DigitNet
    optimizer: torch.optim.Optimizer
    batch_size: int
    seed: int
    history: list = field(default_factory=list)  # fit's epoch events, over every call to train()
    steps: list = field(default_factory=list)  # (loss, batch accuracy) of every step
    loss: str = "cross_entropy"  # a key of LOSSES
    loaded: bool = False  # weights came from a file: worth evaluating even with no epoch trained here
    test_score: dict | None = None  # set by score_test: {"epoch", "steps", "accuracy", "loss"}
    uid: int = field(default_factory=lambda: next(_RUN_IDS))  # tells runs apart in caches

    @property
    def has_weights(self) -> bool:
        """Trained here, or loaded: anything but the random initial weights."""
        return self.loaded or bool(self.steps)

    @property
    def epoch(self) -> int:
        return len(self.history)

    @property
    def loss_fn(self) -> Callable:
        return LOSSES[self.loss]

    def train(self, train: tuple, val: tuple, epochs: int, callback: Callable[[dict], None] | None = None) -> FitResult:
        """Continue training for `epochs` epochs; the training and validation sets are scored (in eval
        mode) after each one, so their numbers compare. The test set plays no part: see score_test.

        History and steps grow while it trains (a page may read them from another thread)."""
        def record(event: dict) -> None:
            if event["event"] == "step":
                self.steps.append((event["loss"], event.get("acc")))
            elif event["event"] == "epoch":
                self.history.append(event)
            if callback is not None:
                callback(event)

        return fit(self.model, self.loss_fn, self.optimizer, train, epochs=epochs, batch_size=self.batch_size,
                   val=val, callback=record, start_epoch=self.epoch, shuffle_seed=self.seed, score_train=True)

    def score_test(self, test: tuple) -> dict:
        """Score the test set with the weights as they are now, and remember when it was done."""
        metrics = evaluate(self.model, self.loss_fn, test)
        self.test_score = {"epoch": self.epoch, "steps": len(self.steps), "accuracy": metrics["acc"],
                           "loss": metrics["loss"]}
        return self.test_score


def new_run(input_size: int, hidden_sizes: tuple[int, ...], n_classes: int, activation: str, optimizer: str,
            lr: float, batch_size: int, seed: int, device, loss: str = "cross_entropy") -> TrainingRun:
    with seeded(seed):  # the initial weights follow the seed, whatever other sessions do meanwhile
        model = DigitNet(input_size, hidden_sizes, n_classes, activation)
    model = model.to(device)
    return TrainingRun(model, make_optimizer(optimizer, model.parameters(), lr), batch_size, seed, loss=loss)


@torch.no_grad()
def evaluate_run(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor], n_classes: int,
                 loss_fn: Callable | None = None) -> Evaluation:
    """Accuracy, per-class accuracy and the confusion matrix on `data` (the validation set, on the page)."""
    model.eval()  # dropout and batch-norm switch to inference behaviour; no_grad skips the graph
    x, y = data
    probabilities = torch.cat([torch.softmax(model(x[i:i + 4096]), dim=1) for i in range(0, len(x), 4096)])
    predicted = probabilities.argmax(dim=1)
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long, device=y.device)
    confusion.index_put_((y, predicted), torch.ones_like(y), accumulate=True)
    confusion = confusion.cpu().numpy()
    per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    loss = evaluate(model, loss_fn or nn.CrossEntropyLoss(), data)["loss"]
    return Evaluation(float(np.trace(confusion) / max(len(y), 1)), loss, per_class, confusion,
                      predicted.cpu().numpy(), probabilities.cpu().numpy())


def confident_mistakes(evaluation: Evaluation, labels: np.ndarray, k: int = 8) -> list[int]:
    """Indices of the k wrong predictions made with the highest probability."""
    wrong = np.flatnonzero(evaluation.predicted != labels)
    confidence = evaluation.probabilities[wrong, evaluation.predicted[wrong]]
    return wrong[np.argsort(-confidence)[:k]].tolist()


@torch.no_grad()
def predict(model: nn.Module, image: np.ndarray) -> np.ndarray:
    """Class probabilities for one image (float in [0, 1], the model's input shape)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.softmax(model(torch.as_tensor(image, dtype=torch.float32, device=device)[None]), dim=1)[0].cpu().numpy()


def one_hot_mse(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """MSE between the softmax probabilities and one-hot targets: a regression loss used to classify."""
    target = torch.nn.functional.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return torch.nn.functional.mse_loss(torch.softmax(logits, dim=1), target)


LOSSES = {"cross_entropy": nn.CrossEntropyLoss(), "mse": one_hot_mse}


def network_of(state_dict: dict) -> tuple[int, tuple[int, ...], int] | None:
    """(input size, hidden sizes, classes) of the DigitNet a state_dict's weights would build, or None
    when its layers are not a chain of Linear layers named as DigitNet names them. Activations have
    no weights, so any activation fits."""
    weights = []
    for index in range(0, 2 * len(state_dict), 2):
        weight, bias = state_dict.get(f"layers.{index}.weight"), state_dict.get(f"layers.{index}.bias")
        if weight is None:
            break
        if weight.dim() != 2 or bias is None or bias.shape != weight.shape[:1]:
            return None
        weights.append(weight.shape)
    if not weights or len(state_dict) != 2 * len(weights):
        return None
    if any(after[1] != before[0] for before, after in zip(weights, weights[1:])):
        return None
    return weights[0][1], tuple(w[0] for w in weights[:-1]), weights[-1][0]
