"""Guided experiments on the pages: a card per experiment, one click loads its settings into the
page and its link, the page then says what to look for, and a teacher's link opens the same."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from nnkit.experiments import registry
from tests.conftest import open_page, setting
from ui.locales import en, zh

PAGES = {"activations": "activations", "regression": "regression", "classification": "classification"}


def _cards(at, name: str) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith(f"{name}.guided.")]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_page_offers_its_guided_experiments(name, lang):
    at = open_page(name, lang)
    experiment = registry()[name]
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert sorted(_cards(at, name)) == sorted(f"{name}.guided.{g.id}" for g in experiment.guided)
    shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    for g in experiment.guided:
        assert strings[f"guided.{name}.{g.id}.title"] in shown and strings[f"guided.{name}.{g.id}.look"] in shown
    heading = strings["guided.heading"].format(count=len(experiment.guided))
    assert heading in [e.label for e in at.expander]


@pytest.mark.parametrize("name, guided_id", [("activations", "no_activation"), ("regression", "raw_diverges"),
                                             ("classification", "mse_loss")])
def test_one_click_loads_the_settings_and_says_what_to_look_for(name, guided_id):
    experiment = registry()[name]
    g = next(g for g in experiment.guided if g.id == guided_id)
    at = open_page(name, "en", {"seed": "5"})
    at.button(key=f"{name}.guided.{guided_id}").click().run()
    assert not at.exception
    wanted = g.params(experiment.params_cls)
    for key in g.settings:
        widget = setting(at, experiment.params_cls, key)
        value = widget.value if not isinstance(widget.value, list) else tuple(widget.value)
        assert value == getattr(wanted, key), key
    assert at.session_state["seed"] == 0  # a guided experiment shows the same thing for everyone
    banner = en.STRINGS["guided.showing"].format(title=en.STRINGS[f"guided.{name}.{guided_id}.title"],
                                                 look=en.STRINGS[f"guided.{name}.{guided_id}.look"])
    assert banner in [i.value for i in at.info]
    # the link the page shows is the one for these settings
    for key in g.settings:
        assert at.query_params.get(key) is not None or getattr(wanted, key) == getattr(experiment.params_cls(), key)


def test_the_promise_shows_on_the_page():
    """No activation keeps the circles near chance; ReLU separates them (the numbers the learner reads)."""
    at = open_page("activations", "en", {"dataset": "xor"})
    at.button(key="activations.guided.no_activation").click().run()
    accuracy = [float(m.value.rstrip("%")) / 100 for m in at.metric if m.label == "Training accuracy"]
    assert len(accuracy) == 2 and accuracy[0] >= 0.95 and accuracy[1] <= 0.7


def test_a_teachers_link_opens_the_experiment_and_its_reminder():
    from ui.guided import link

    experiment = registry()["regression"]
    g = next(g for g in experiment.guided if g.id == "small_lr")
    query = {k: v[-1] for k, v in parse_qs(urlparse(link(experiment, g)).query).items()}
    assert query == {"task": "linear", "lr": "0.01"}
    at = open_page("regression", "zh", query)
    assert not at.exception and setting(at, experiment.params_cls, "lr").value == 0.01
    assert any(zh.STRINGS["guided.regression.small_lr.title"] in i.value for i in at.info)
    setting(at, experiment.params_cls, "lr").set_value(0.5).run()  # changed: no longer that experiment
    assert not any(zh.STRINGS["guided.regression.small_lr.title"] in i.value for i in at.info)
