"""Classifying images: the network, a training run that can stop and resume, and its evaluation.

The course's workflow, each step in one place: data as tensors on the device, a network that
flattens its input, cross-entropy and an optimizer, `fit` for training (train set shuffled, test
set not), evaluation under `model.eval()` and `torch.no_grad()`.
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
    probabilities: np.ndarray  # (n_test, n_classes)


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
    loaded: bool = False  # weights came from a file: worth evaluating even with no epoch trained here
    uid: int = field(default_factory=lambda: next(_RUN_IDS))  # tells runs apart in caches

    @property
    def has_weights(self) -> bool:
        """Trained here, or loaded: anything but the random initial weights."""
        return self.loaded or bool(self.steps)

    @property
    def epoch(self) -> int:
        return len(self.history)

    def train(self, train: tuple, test: tuple, epochs: int, callback: Callable[[dict], None] | None = None,
              loss_fn: Callable | None = None) -> FitResult:
        """Continue training for `epochs` epochs; the test set is scored after each one.

        History and steps grow while it trains (a page may read them from another thread)."""
        def record(event: dict) -> None:
            if event["event"] == "step":
                self.steps.append((event["loss"], event.get("acc")))
            elif event["event"] == "epoch":
                self.history.append(event)
            if callback is not None:
                callback(event)

        return fit(self.model, loss_fn or nn.CrossEntropyLoss(), self.optimizer, train, epochs=epochs,
                   batch_size=self.batch_size, val=test, callback=record, start_epoch=self.epoch,
                   shuffle_seed=self.seed)


def new_run(input_size: int, hidden_sizes: tuple[int, ...], n_classes: int, activation: str, optimizer: str,
            lr: float, batch_size: int, seed: int, device) -> TrainingRun:
    with seeded(seed):  # the initial weights follow the seed, whatever other sessions do meanwhile
        model = DigitNet(input_size, hidden_sizes, n_classes, activation)
    model = model.to(device)
    return TrainingRun(model, make_optimizer(optimizer, model.parameters(), lr), batch_size, seed)


@torch.no_grad()
def evaluate_run(model: nn.Module, test: tuple[torch.Tensor, torch.Tensor], n_classes: int) -> Evaluation:
    """Accuracy, per-class accuracy and the confusion matrix on the test set."""
    model.eval()  # dropout and batch-norm switch to inference behaviour; no_grad skips the graph
    x, y = test
    probabilities = torch.cat([torch.softmax(model(x[i:i + 4096]), dim=1) for i in range(0, len(x), 4096)])
    predicted = probabilities.argmax(dim=1)
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long, device=y.device)
    confusion.index_put_((y, predicted), torch.ones_like(y), accumulate=True)
    confusion = confusion.cpu().numpy()
    per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    loss = evaluate(model, nn.CrossEntropyLoss(), test)["loss"]
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
