"""Every guided experiment ("try this") keeps its promise: run headless with its settings, the
effect its text tells the learner to look for shows in the numbers. Its texts exist in both
languages, and its settings are valid parameters."""

from __future__ import annotations

import json

import pytest

from nnkit.experiments import registry
from ui.locales import en, zh

GUIDED = [(exp, g) for exp in registry().values() for g in exp.guided]


def _id(case) -> str:
    exp, g = case
    return f"{exp.name}.{g.id}"


@pytest.mark.parametrize("case", GUIDED, ids=[_id(c) for c in GUIDED])
def test_guided_experiment_keeps_its_promise(case):
    exp, g = case
    summary = exp.summary(exp.run(g.params(exp.params_cls)))
    assert g.promise(summary), f"{exp.name}.{g.id} broke its promise: {json.dumps(summary, default=str)[:2000]}"


@pytest.mark.parametrize("case", GUIDED, ids=[_id(c) for c in GUIDED])
def test_guided_experiment_has_its_texts(case):
    exp, g = case
    for part in ("title", "look"):
        key = f"guided.{exp.name}.{g.id}.{part}"
        assert en.STRINGS.get(key, "").strip() and zh.STRINGS.get(key, "").strip(), key


@pytest.mark.parametrize("name", sorted(registry()))
def test_each_page_offers_three_to_six_guided_experiments(name):
    guided = registry()[name].guided
    assert 3 <= len(guided) <= 6, f"{name} has {len(guided)} guided experiments"
    assert len({g.id for g in guided}) == len(guided)
