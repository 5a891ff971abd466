"""The experiments, by name: each one's parameters, run function, summary and code export."""

from __future__ import annotations

from nnkit.experiments.base import Experiment


def registry() -> dict[str, Experiment]:
    """Imported on demand: the experiments pull in torch."""
    from nnkit.experiments import (activations, classification, dropout, gradients, optimizers, overfitting,
                                   regression, schedulers)

    return {e.name: e for e in (activations.EXPERIMENT, regression.EXPERIMENT, classification.EXPERIMENT,
                                              overfitting.EXPERIMENT, dropout.EXPERIMENT, gradients.EXPERIMENT,
                                              optimizers.EXPERIMENT, schedulers.EXPERIMENT)}
