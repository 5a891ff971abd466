"""Every page under AppTest: both languages, garbage links, URL binding, extreme settings."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import PAGES, open_page
from nnkit.activations import ACTIVATIONS
from nnkit.experiments.activations import ActivationsParams
from nnkit.experiments.base import specs
from nnkit.experiments.regression import RegressionParams
from ui.locales import en, zh

TITLES = {"home": ("NN Playground", "神经网络游乐场"), "activations": ("Activation functions", "激活函数"),
          "regression": ("Regression", "回归"), "classification": ("Classification", "分类"),
          "overfitting": ("Overfitting", "过拟合"), "dropout": ("Dropout", "Dropout"),
          "gradients": ("Vanishing and exploding gradients", "梯度消失和梯度爆炸"),
          "optimizers": ("Optimizers: gradient descent and its variants", "优化器:梯度下降及其变体"),
          "schedulers": ("Learning-rate schedulers", "学习率调节器")}


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def bar_values(at) -> dict[str, float]:
    """The bars of the page's bar chart, label -> value, as sent to the browser (Arrow datasets)."""
    import pyarrow as pa

    chart = next(c for c in at.get("vega_lite_chart") if json.loads(c.proto.spec).get("mark") == {"type": "bar"})
    (dataset,) = chart.proto.datasets
    table = pa.ipc.open_stream(dataset.data.data).read_all().to_pydict()
    return dict(zip(table["label"], table["value"]))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_renders_in_both_languages(page, lang):
    at = open_page(page, lang)
    assert not at.exception, at.exception
    assert at.title[0].value == TITLES[page][lang == "zh"]
    assert at.sidebar.radio(key="lang").value == lang
    # The sidebar says which device trains, in the chosen language.
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith(("Device in use", "当前设备")) and "cpu" in c for c in captions), captions


def test_home_links_only_pages_that_exist():
    at = open_page("home")
    links = sorted(el.proto.page for el in at.get("page_link"))
    assert links == sorted(p for p in PAGES if p != "home")


GARBAGE = {"seed": "-5", "lr": "banana", "x_min": "-100", "functions": ["relu", "bogus"],
           "dataset": "mars", "logits": "a,b", "temperature": "nan", "n_points": "7.5", "epochs": "1e9",
           "hidden_layers": "", "unknown_thing": "1",
           # regression
           "task": "quadratic", "iterations": "-3", "true_weights": "1", "zero_grad": "maybe", "degree": "99",
           # optimizers
           "landscape": "moon", "lr_adam": "0", "start": "1"}
BAD_ON_PAGE = {"classification": ["lr", "dataset", "epochs", "hidden_layers"],
               "activations": ["lr", "x_min", "functions", "dataset", "logits", "temperature", "n_points", "epochs"],
               "regression": ["lr", "n_points", "task", "iterations", "true_weights", "zero_grad", "degree"],
               "overfitting": ["lr", "dataset", "n_points", "epochs"],
               "dropout": ["lr", "dataset", "n_points", "epochs"],
               "gradients": ["lr", "dataset", "n_points", "epochs"],
               "optimizers": ["landscape", "lr_adam", "start"],
               "schedulers": ["lr", "epochs"]}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_garbage_link_opens_with_defaults_and_a_notice(page, lang):
    at = open_page(page, lang, GARBAGE)
    assert not at.exception, at.exception
    notice = at.warning[0].value
    assert at.title[0].value == TITLES[page][lang == "zh"]
    if page == "home":  # (open_page reads the sidebar's settings on the first run, on home)
        assert "seed:" in notice
    else:
        for name in BAD_ON_PAGE[page]:
            assert f"{name}:" in notice, name
        assert "unknown_thing" not in at.query_params
    if page == "regression":
        defaults = RegressionParams()
        assert at.selectbox(key="regression.task").value == defaults.task
        assert at.number_input(key="regression.lr").value == defaults.lr
        assert at.slider(key="regression.iterations").value == defaults.iterations
        assert at.toggle(key="regression.zero_grad").value is True
    if page == "activations":
        defaults = ActivationsParams()
        assert at.number_input(key="activations.lr").value == defaults.lr
        assert at.slider(key="activations.x_min").value == defaults.x_min
        assert at.selectbox(key="activations.dataset").value == defaults.dataset
        assert at.text_input(key="activations.logits").value == "2, 1, 0.1, -1"
        assert at.multiselect(key="activations.functions").value == list(defaults.functions)
    assert at.sidebar.number_input(key="seed").value == 0
    # the bad values are gone from the address bar
    assert "lr" not in at.query_params and "seed" not in at.query_params


def test_bad_language_in_link_falls_back_to_english():
    at = open_page("home", "klingon")
    assert not at.exception
    assert at.title[0].value == "NN Playground"
    assert "lang" in at.warning[0].value


def test_link_restores_settings_and_changes_update_the_link():
    at = open_page("activations", "zh", {"temperature": "3", "functions": ["gelu", "elu"], "dataset": "moons",
                                         "seed": "7"})
    assert not at.exception
    assert at.slider(key="activations.temperature").value == 3.0
    assert at.multiselect(key="activations.functions").value == ["gelu", "elu"]
    assert at.selectbox(key="activations.dataset").value == "moons"
    assert at.sidebar.number_input(key="seed").value == 7
    assert not at.warning
    at.slider(key="activations.noise").set_value(0.2).run()
    assert at.query_params["noise"] == "0.2"
    assert at.query_params["dataset"] == "moons" and at.query_params["lang"] == "zh"
    # back to a default: the parameter leaves the link
    at.selectbox(key="activations.dataset").set_value("circles").run()
    assert "dataset" not in at.query_params
    # the share box shows the same query string
    share = [c.value for c in at.code if "noise=0.2" in c.value]
    assert share, [c.value for c in at.code][:2]


def test_language_switch_keeps_the_experiment():
    at = open_page("activations", "en", {"dataset": "xor"})
    before = [m.value for m in at.metric]
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "激活函数"
    assert at.selectbox(key="activations.dataset").value == "xor"
    assert [m.value for m in at.metric] == before
    assert at.query_params["lang"] == "zh" and at.query_params["dataset"] == "xor"


def test_activations_page_draws_every_part():
    at = open_page("activations")
    specs_ = charts(at)
    # f, f' and its saturation strip, softmax bars, two decision-region maps, the loss curves, the hidden view,
    # the runs overlay
    assert len(specs_) == 9, len(specs_)
    # one formula per chosen function, each exactly its own
    assert [f.value.strip("$\n") for f in at.latex] == [ACTIVATIONS[n].latex for n in ActivationsParams().functions]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sum of the probabilities"] == "1.000000"
    accuracies = [m.value for m in at.metric if m.label == "Training accuracy"]
    with_act, without = (float(v.rstrip("%")) for v in accuracies)
    assert with_act >= 97.0 and without < 70.0, accuracies
    assert any("torch.manual_seed(SEED)" in c.value for c in at.code)
    assert at.get("download_button")


def _dataset(chart) -> dict:
    import pyarrow as pa

    (dataset,) = chart.proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pydict()


def test_saturation_strip_gives_each_function_its_row_in_its_colour():
    """Zones no longer overlap in mixed colours: one row per function, coloured as its curve."""
    at = open_page("activations", query={"functions": ["sigmoid", "relu", "leaky_relu"], "leaky_slope": "0.2"})
    assert not at.exception
    elements = at.get("vega_lite_chart")
    specs_ = [json.loads(c.proto.spec) for c in elements]
    strip_at = next(i for i, s in enumerate(specs_) if s.get("mark", {}).get("type") == "bar" and "x2" in s["encoding"])
    strip, derivative = specs_[strip_at], specs_[strip_at - 1]  # drawn right under the f' chart
    names = ["Sigmoid", "ReLU", "LeakyReLU"]
    assert strip["encoding"]["y"]["scale"]["domain"] == names  # LeakyReLU keeps its (empty) row
    colours = derivative["layer"][0]["encoding"]["color"]["scale"]
    assert strip["encoding"]["color"]["scale"] == colours and colours["domain"] == names
    rows = _dataset(elements[strip_at])
    assert set(rows["function"]) == {"Sigmoid", "ReLU"}  # LeakyReLU's slope 0.2 never saturates
    relu = [(a, b) for f, a, b in zip(rows["function"], rows["start"], rows["end"]) if f == "ReLU"]
    assert relu == [(-6.0, pytest.approx(-0.06))]  # x < 0, to the last grid point before 0


def test_softmax_labels_are_horizontal_and_regions_keep_their_aspect():
    specs_ = charts(open_page("activations"))
    bars = next(s for s in specs_ if s.get("mark") == {"type": "bar"})
    assert bars["encoding"]["x"]["axis"]["labelAngle"] == 0
    regions = [s for s in specs_ if s.get("title") in ("With ReLU", "Without activation")]
    assert len(regions) == 2
    for spec in regions:  # the domains follow the drawn width and height: one unit of x1 = one unit of x2
        x, y = (spec["layer"][0]["encoding"][axis]["scale"] for axis in ("x", "y"))
        assert "width / height" in x["domainMax"]["expr"] and "height / width" in y["domainMax"]["expr"]


def test_softmax_follows_logits_and_temperature():
    at = open_page("activations", query={"logits": "1, 1, 1, 1"})
    assert {m.label: m.value for m in at.metric}["Sum of the probabilities"] == "1.000000"
    assert bar_values(at) == {"z1 = 1": 0.25, "z2 = 1": 0.25, "z3 = 1": 0.25, "z4 = 1": 0.25}
    at.text_input(key="activations.logits").input("3, 1, -2").run()
    for temperature in (1.0, 0.5, 5.0):
        at.slider(key="activations.temperature").set_value(temperature).run()
        expected = torch.softmax(torch.tensor([3.0, 1.0, -2.0], dtype=torch.float64) / temperature, dim=0)
        shown = bar_values(at)
        assert list(shown) == ["z1 = 3", "z2 = 1", "z3 = -2"]
        assert list(shown.values()) == pytest.approx(expected.tolist(), abs=1e-12), temperature


def test_invalid_logits_typed_show_an_error_and_keep_working():
    at = open_page("activations")
    at.text_input(key="activations.logits").input("1, two, 3").run()
    assert not at.exception
    assert any("logits" in e.value for e in at.error)
    assert {m.label: m.value for m in at.metric}["Sum of the probabilities"] == "1.000000"


def test_no_function_selected_says_so():
    at = open_page("activations")
    at.multiselect(key="activations.functions").set_value([]).run()
    assert not at.exception
    assert any(i.value == en.STRINGS["act.pick_one"] for i in at.info)


@pytest.mark.parametrize("end", ["lo", "hi"])
def test_every_activations_slider_at_its_ends(end):
    query = {}
    for name, (_, spec) in specs(ActivationsParams).items():
        if spec.kind in ("int", "float") and spec.ui:
            value = spec.lo if end == "lo" else spec.hi
            query[name] = str(int(value) if spec.kind == "int" else value)
    if end == "hi":  # the largest net for the most epochs is slow on CI's 2 cores: keep a long run, smaller net
        query["hidden_size"] = "16"
    at = open_page("activations", "zh", query, timeout=300)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value
    assert len(charts(at)) >= 5
    assert zh.STRINGS["act.sum"] in [m.label for m in at.metric]


def test_an_empty_list_in_the_link_clears_the_curves_without_a_notice():
    at = open_page("activations", "en", {"functions": ""})
    assert not at.exception and not at.warning
    assert at.multiselect(key="activations.functions").value == []


HOSTILE = {"seed": "[Session expired, log in again](https://evil.example/login)",
           "lr": "![x](https://evil.example/pixel.png)", "dataset": "__import__", "task": "<b>bold</b>",
           "a`b": "1"}


@pytest.mark.parametrize("page", PAGES)
def test_values_from_a_link_are_shown_as_text_never_as_markdown(page):
    from ui.text import literal

    at = open_page(page, "en", HOSTILE)
    assert not at.exception, at.exception
    notice = at.warning[0].value
    # each value the link carried sits in a code span, which Markdown shows verbatim
    if page == "home":  # (open_page reads the sidebar's settings on the first run, on home)
        assert literal(repr(HOSTILE["seed"])) in notice
    if page == "activations":
        assert literal(repr(HOSTILE["lr"])) in notice and literal(repr("__import__")) in notice
    # outside the code spans nothing is left that Markdown would turn into a link, image or bold
    outside = notice
    for value in [repr(v) for v in HOSTILE.values()] + list(HOSTILE):
        outside = outside.replace(literal(value), "")
    assert "](" not in outside and "__" not in outside and "<b>" not in outside, outside


def test_unknown_names_are_named_and_dropped_from_the_link():
    at = open_page("regression", "en", {"nosuch": "1", "degree": "4"})
    assert not at.exception
    assert "`nosuch` is not a setting of this page" in at.warning[0].value
    assert dict(at.query_params) == {"degree": "4"}  # (English is the default: not in the link)
    assert any("degree=4" in c.value and "nosuch" not in c.value for c in at.code)  # the share link too


@pytest.mark.parametrize("page", PAGES)
def test_an_absurdly_long_link_is_refused_with_a_message(page):
    long = {"seed": "7" * 100_000} if page == "home" else {"lr": "0.5", "junk": "x" * 100_000}
    at = open_page(page, "en", long)
    assert not at.exception, at.exception
    assert at.title[0].value == TITLES[page][0]
    notice = at.warning[0].value
    assert "characters long" in notice and "4,000" in notice and len(notice) < 400
    assert not set(long) & set(at.query_params)


def test_a_long_bad_value_is_cut_in_the_notice():
    at = open_page("activations", "en", {"logits": "1, " + "x" * 1000})
    notice = at.warning[0].value
    assert "…" in notice and len(notice) < 600
