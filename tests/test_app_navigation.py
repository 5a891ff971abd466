"""One learner, one session, every page: each page keeps its own settings (issue: pages leaked them).

Activations once kept `epochs=300` under the widget key `epochs`, which Classification also used
(maximum 30): going Activations -> Classification raised StreamlitValueAboveMaxError, and other
shared names were silently clamped and written into the link. Each page's settings now belong to
that page; the seed and the language are the only settings shared on purpose.
"""

from __future__ import annotations

import pytest

from conftest import open_page, setting, switch
from nnkit.experiments.activations import ActivationsParams
from nnkit.experiments.base import specs, to_text
from nnkit.experiments.classification import ClassificationParams
from nnkit.experiments.dropout import DropoutParams
from nnkit.experiments.gradients import GradientsParams
from nnkit.experiments.optimizers import OptimizersParams
from nnkit.experiments.overfitting import OverfittingParams
from nnkit.experiments.regression import RegressionParams
from nnkit.experiments.schedulers import SchedulersParams

PARAMS = {"activations": ActivationsParams, "regression": RegressionParams, "classification": ClassificationParams,
          "overfitting": OverfittingParams, "dropout": DropoutParams,
          "gradients": GradientsParams, "optimizers": OptimizersParams,
          "schedulers": SchedulersParams}
# Non-default values that collide by name across pages (epochs, lr, noise, n_points, hidden_*, dataset),
# each legal on its own page only where the ranges differ (epochs 300 > 30, lr 2.0 > 1.0).
LEFT = {
    "activations": {"epochs": 300 + 40, "lr": 0.05, "noise": 0.2, "n_points": 100, "hidden_layers": 2,
                    "hidden_size": 8, "dataset": "xor"},
    "regression": {"task": "multiple", "lr": 2.0, "n_points": 50, "noise": 0.5, "iterations": 120, "spread": 5.0},
    "classification": {"epochs": 3, "lr": 0.005, "hidden_layers": 2, "hidden_size": 64, "batch_size": 64},
    "overfitting": {"section": "approximation", "approx_epochs": 30, "units": 3, "approx_lr": 0.2},
    "dropout": {"section": "masks", "units": 4, "passes": 10},
    "gradients": {"section": "chain", "depth": 12, "chain_weight": 2.0},
    "optimizers": {"landscape": "saddle", "steps": 500, "lr_adam": 0.05},
    "schedulers": {"epochs": 340, "lr": 2.0, "step_size": 7},
}


def leave_settings(at, page: str) -> None:
    for name, value in LEFT[page].items():  # one at a time: the task decides which widgets exist
        setting(at, PARAMS[page], name).set_value(value).run()
        assert not at.exception, at.exception


def check_settings(at, page: str) -> None:
    assert not at.exception, at.exception
    table = specs(PARAMS[page])
    for name, value in LEFT[page].items():
        assert setting(at, PARAMS[page], name).value == value, (page, name)
    # the link describes this page's settings, exactly as left, plus the shared seed and language
    expected = {name: to_text(table[name][1], value) for name, value in LEFT[page].items()}
    assert {k: v for k, v in at.query_params.items() if k not in ("seed", "lang")} == expected
    assert at.query_params["seed"] == "5" and at.query_params["lang"] == "zh"
    assert not at.warning, at.warning[0].value  # nothing was clamped or refused on the way


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_every_page_keeps_its_own_settings_in_one_session(order):
    pages = list(LEFT) if order == "forward" else list(reversed(LEFT))
    at = open_page("home", "zh")
    at.sidebar.number_input(key="seed").set_value(5).run()
    for page in pages:  # the learner changes settings on every page in turn...
        switch(at, page)
        leave_settings(at, page)
    for page in reversed(pages + pages[:-1]):  # ...then walks back and forth through all of them
        switch(at, page)
        check_settings(at, page)
    switch(at, "classification")
    button = next(b for b in at.button if b.key == "cls_train")
    assert "3" in button.label, button.label  # the button and the slider agree on the epochs


def test_a_page_opened_after_another_starts_from_its_own_defaults():
    at = open_page("activations")
    setting(at, ActivationsParams, "epochs").set_value(2000).run()
    setting(at, ActivationsParams, "lr").set_value(0.0001).run()
    switch(at, "classification")
    assert not at.exception, at.exception
    defaults = ClassificationParams()
    assert setting(at, ClassificationParams, "epochs").value == defaults.epochs
    assert setting(at, ClassificationParams, "lr").value == defaults.lr
    assert "epochs" not in at.query_params and "lr" not in at.query_params
    switch(at, "regression")
    assert setting(at, RegressionParams, "lr").value == RegressionParams().lr
    assert setting(at, RegressionParams, "n_points").value == RegressionParams().n_points
