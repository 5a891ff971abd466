"""Overfitting: tell over- from underfitting on a curve, and pull the levers that fix each one."""

from nnkit.experiments import overfitting
from ui.overfitting import capacity, regularization, validation
from ui.sectioned import page

# each section's view: (params, run's result) -> draws it
VIEWS = {
    "capacity": capacity.show_capacity,
    "approximation": capacity.show_approximation,
    "data_size": capacity.show_data_size,
    "early_stopping": regularization.show_early_stopping,
    "regularization": regularization.show_regularization,
    "validation": validation.show_validation,
    "augmentation": validation.show_augmentation,
}

page("ovf", overfitting, VIEWS, overfitting.RUN_FINALS)
