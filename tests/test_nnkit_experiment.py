"""nnkit.experiments: parameter coercion and parsing (base) and the Activations experiment."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields, replace

import numpy as np
import pytest

from nnkit.experiments import registry
from nnkit.experiments.activations import (EXPERIMENT, GRID, ActivationsParams, run, summary,
                                           train_nonlinearity)
from nnkit.experiments.base import ParamError, Spec, coerce, fmt, parse, specs, to_text

SPECS = specs(ActivationsParams)


def spec(name: str) -> Spec:
    return SPECS[name][1]


# --- base: coerce -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("300", 300), (" 450 ", 450), (50, 50), (1000, 1000), (500.0, 500), ("50", 50), ("1000", 1000),
])
def test_coerce_int(raw, expected):
    value = coerce("n_points", spec("n_points"), raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("raw", ["49", "1001", 0, -300, 10**6])
def test_coerce_int_out_of_range(raw):
    with pytest.raises(ParamError, match=r"n_points: .* is outside \[50, 1000\]"):
        coerce("n_points", spec("n_points"), raw)


@pytest.mark.parametrize("raw", ["abc", "", "3.5", "300.0", 300.5, "1e3", None, [300], "nan", "inf",
                                 float("nan"), float("inf")])
def test_coerce_int_rejects_non_integers(raw):
    with pytest.raises(ParamError, match=r"n_points: .* is not an integer"):
        coerce("n_points", spec("n_points"), raw)


@pytest.mark.parametrize("raw, expected", [
    ("0.5", 0.5), (" 0.25 ", 0.25), (0.1, 0.1), (1, 1.0), ("1e-3", 0.001), ("0.0001", 0.0001), ("1", 1.0),
])
def test_coerce_float(raw, expected):
    value = coerce("lr", spec("lr"), raw)
    assert value == expected
    assert isinstance(value, float)


@pytest.mark.parametrize("raw", ["5", 1.0001, "0.00009", "-0.1", 0])
def test_coerce_float_out_of_range(raw):
    with pytest.raises(ParamError, match=r"lr: .* is outside \[0\.0001, 1\]"):
        coerce("lr", spec("lr"), raw)


@pytest.mark.parametrize("raw", ["abc", "", "0.1.2", None, "1,2"])
def test_coerce_float_rejects_garbage(raw):
    with pytest.raises(ParamError, match=r"lr: .* is not a number"):
        coerce("lr", spec("lr"), raw)


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", float("nan"), float("inf"), -math.inf])
def test_coerce_float_rejects_nan_and_inf(raw):
    with pytest.raises(ParamError, match="not a finite number"):
        coerce("noise", spec("noise"), raw)


def test_coerce_negative_range():
    assert coerce("x_min", spec("x_min"), "-20") == -20.0
    assert coerce("x_min", spec("x_min"), "-0.5") == -0.5
    with pytest.raises(ParamError, match=r"outside \[-20, -0\.5\]"):
        coerce("x_min", spec("x_min"), "0")


def test_coerce_seed_bounds():
    assert coerce("seed", spec("seed"), "2147483647") == 2**31 - 1
    with pytest.raises(ParamError, match=r"outside \[0, 2147483647\]"):
        coerce("seed", spec("seed"), str(2**31))
    with pytest.raises(ParamError):
        coerce("seed", spec("seed"), "-1")


def test_coerce_choice():
    assert coerce("dataset", spec("dataset"), "moons") == "moons"
    assert coerce("dataset", spec("dataset"), " xor ") == "xor"
    for bad in ("Moons", "square", "", "moons,xor"):
        with pytest.raises(ParamError, match=r"dataset: .* is not one of circles, xor, moons, spiral"):
            coerce("dataset", spec("dataset"), bad)


def test_coerce_multi():
    s = spec("functions")
    assert coerce("functions", s, "relu,tanh") == ("relu", "tanh")
    assert coerce("functions", s, " relu , tanh ,") == ("relu", "tanh")
    assert coerce("functions", s, "tanh,relu,tanh,relu") == ("tanh", "relu")  # order kept, repeats dropped
    assert coerce("functions", s, ["gelu", "gelu", "silu"]) == ("gelu", "silu")
    assert coerce("functions", s, ("softplus",)) == ("softplus",)
    with pytest.raises(ParamError, match=r"functions: 'swish' is not one of sigmoid"):
        coerce("functions", s, "relu,swish")
    # no function at all is a valid choice (the page then asks for one)
    assert coerce("functions", s, "") == ()
    assert coerce("functions", s, []) == ()
    with pytest.raises(ParamError, match=r"functions: needs 0 to 8 values, got 9"):
        coerce("functions", s, ["relu"] * 9)
    with pytest.raises(ParamError, match="is not one of"):
        coerce("functions", s, "none")  # "none" has no curve


def test_coerce_floats():
    s = spec("logits")
    assert coerce("logits", s, "1, 2.5, -3") == (1.0, 2.5, -3.0)
    assert coerce("logits", s, [1, "2"]) == (1.0, 2.0)
    assert coerce("logits", s, "50,-50") == (50.0, -50.0)
    assert all(type(v) is float for v in coerce("logits", s, "1,2"))
    with pytest.raises(ParamError, match="needs 2 to 10 values, got 1"):
        coerce("logits", s, "1")
    with pytest.raises(ParamError, match="needs 2 to 10 values, got 11"):
        coerce("logits", s, ",".join(["1"] * 11))
    with pytest.raises(ParamError, match=r"logits: '60' is outside \[-50, 50\]"):
        coerce("logits", s, "1, 60")
    with pytest.raises(ParamError, match=r"logits: 'abc' is not a number"):
        coerce("logits", s, "1, abc")
    with pytest.raises(ParamError, match="not a finite number"):
        coerce("logits", s, "1, nan")
    with pytest.raises(ParamError, match="not a finite number"):
        coerce("logits", s, "inf, 1")


def test_coerce_with_open_bounds_accepts_values_in_range():
    assert coerce("k", Spec("float", lo=0.0), "5") == 5.0
    assert coerce("k", Spec("float", hi=1.0), "-1e6") == -1e6
    assert coerce("k", Spec("int"), "-7") == -7
    with pytest.raises(ParamError, match="not a finite number"):
        coerce("k", Spec("float"), "inf")


@pytest.mark.parametrize("s, raw", [(Spec("float", lo=0.0), "-1"), (Spec("int", hi=10), "11"),
                                    (Spec("floats", hi=1.0, min_len=2), "0, 2")])
def test_coerce_with_a_one_sided_range_rejects_with_param_error(s, raw):
    with pytest.raises(ParamError, match="outside"):
        coerce("k", s, raw)


def test_param_error_is_a_value_error():
    assert issubclass(ParamError, ValueError)


def test_fmt():
    assert fmt(2147483647) == "2147483647"
    assert fmt(2.0**31 - 1) == "2147483647"
    assert fmt(0.0001) == "0.0001"
    assert fmt(-0.5) == "-0.5"
    assert fmt(20.0) == "20"


# --- base: to_text and parse --------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SPECS))
def test_to_text_then_coerce_round_trips_every_default(name):
    default, s = SPECS[name]
    text = to_text(s, default)
    assert isinstance(text, (str, list))
    value = coerce(name, s, text)
    assert value == default
    assert type(value) is type(default)


def test_to_text_round_trips_non_default_values():
    p = ActivationsParams(functions=("gelu", "relu"), x_min=-12.5, leaky_slope=0.37, logits=(1e-05, -49.5, 3.25),
                          temperature=0.1, dataset="spiral", n_points=950, lr=0.0002, epochs=1990, seed=2**31 - 1)
    for name, (_, s) in SPECS.items():
        value = getattr(p, name)
        assert coerce(name, s, to_text(s, value)) == value, name


def test_to_text_keeps_every_digit_of_a_float():
    for name, value in (("lr", 0.0123456789), ("noise", 0.123456789)):
        assert coerce(name, spec(name), to_text(spec(name), value)) == value
    assert coerce("logits", spec("logits"), to_text(spec("logits"), (1.23456789, 2.0))) == (1.23456789, 2.0)


def test_parse_all_defaults_from_text_gives_the_defaults():
    raw = {name: to_text(s, default) for name, (default, s) in SPECS.items()}
    params, errors = parse(ActivationsParams, raw)
    assert params == ActivationsParams()
    assert errors == {}


def test_parse_strict():
    params, errors = parse(ActivationsParams, {"lr": "0.1", "epochs": "50", "dataset": "xor",
                                               "functions": "relu,tanh", "logits": "1,2"})
    assert errors == {}
    assert params == replace(ActivationsParams(), lr=0.1, epochs=50, dataset="xor",
                             functions=("relu", "tanh"), logits=(1.0, 2.0))
    assert parse(ActivationsParams, {})[0] == ActivationsParams()
    with pytest.raises(ParamError, match=r"unknown parameter 'learning_rate'; known: functions, x_min"):
        parse(ActivationsParams, {"learning_rate": "0.1"})
    with pytest.raises(ParamError, match="lr: 'abc' is not a number"):
        parse(ActivationsParams, {"epochs": "50", "lr": "abc"})
    with pytest.raises(ParamError, match="outside"):
        parse(ActivationsParams, {"epochs": "5"}, strict=True)


def test_parse_lenient_falls_back_to_defaults_and_reports():
    defaults = ActivationsParams()
    params, errors = parse(ActivationsParams, {"lr": "abc", "epochs": "50", "noise": "nan",
                                               "dataset": "square", "learning_rate": "0.1"}, strict=False)
    assert params.epochs == 50  # the good value is used
    assert params.lr == defaults.lr and params.noise == defaults.noise and params.dataset == defaults.dataset
    assert params == replace(defaults, epochs=50)
    assert set(errors) >= {"lr", "noise", "dataset"}
    assert "epochs" not in errors
    assert errors["lr"] == "lr: 'abc' is not a number"
    assert "not a finite number" in errors["noise"]
    assert "square" in errors["dataset"]
    assert all(isinstance(message, str) and message for message in errors.values())


def test_registry_has_the_activations_experiment():
    exps = registry()
    assert exps["activations"] is EXPERIMENT
    assert EXPERIMENT.params_cls is ActivationsParams
    assert [f.name for f in fields(ActivationsParams)] == list(SPECS)


# --- the Activations experiment -----------------------------------------------------------------

def _train(**changes) -> dict:
    return train_nonlinearity(replace(ActivationsParams(), **changes))


@pytest.mark.parametrize("dataset", ["moons", "xor"])
def test_with_activation_learns_the_default_settings(dataset):
    nets = _train(dataset=dataset)["nets"]
    assert nets["with"].activation == "relu"
    assert nets["with"].outcome == "completed"
    assert nets["with"].accuracy >= 0.97
    assert len(nets["with"].history) == ActivationsParams().epochs


@pytest.mark.parametrize("dataset", ["circles", "xor"])
def test_without_activation_stays_linear(dataset):
    nets = _train(dataset=dataset)["nets"]
    assert nets["without"].activation == "none"
    assert nets["without"].outcome == "completed"
    assert nets["without"].accuracy < 0.9
    assert nets["without"].hidden is None
    assert nets["with"].accuracy - nets["without"].accuracy > 0.1


def test_training_is_seeded():
    a = _train(dataset="moons", epochs=30)["nets"]["with"]
    b = _train(dataset="moons", epochs=30)["nets"]["with"]
    assert a.loss == b.loss and a.accuracy == b.accuracy
    np.testing.assert_array_equal(a.region["p"], b.region["p"])
    c = _train(dataset="moons", epochs=30, seed=1)["nets"]["with"]
    assert c.loss != a.loss


def test_callback_sees_both_runs():
    events = []
    train_nonlinearity(replace(ActivationsParams(), epochs=10, n_points=50), events.append)
    epoch_events = [e for e in events if e["event"] == "epoch"]
    assert [e["run"] for e in epoch_events] == ["with"] * 10 + ["without"] * 10
    assert all(e["epochs"] == 10 for e in events)


@pytest.fixture(scope="module")
def default_result() -> dict:
    return run(ActivationsParams())


def test_hidden_view_separates_by_the_sign_of_u(default_result):
    net = default_result["training"]["nets"]["with"]
    n = ActivationsParams().n_points
    hidden = net.hidden
    assert hidden["u"].shape == hidden["v"].shape == hidden["label"].shape == (n,)
    np.testing.assert_array_equal(hidden["label"], default_result["training"]["points"]["label"])
    sign_accuracy = float(np.mean((hidden["u"] > 0).astype(np.int64) == hidden["label"]))
    assert net.accuracy >= 0.97
    assert sign_accuracy >= 0.97
    assert abs(sign_accuracy - net.accuracy) <= 1 / n  # the same classifier, up to rounding
    assert np.all(np.isfinite(hidden["v"])) and np.std(hidden["v"]) > 0


def test_regions_are_probabilities_on_the_grid(default_result):
    pts = default_result["training"]["points"]
    for role in ("with", "without"):
        region = default_result["training"]["nets"][role].region
        for key in ("x0", "x1", "p"):
            assert region[key].shape == (GRID * GRID,)
        assert np.all(region["p"] >= 0) and np.all(region["p"] <= 1)
        assert len(np.unique(region["x0"])) == GRID and len(np.unique(region["x1"])) == GRID
        # the grid covers every point, with a margin
        assert region["x0"].min() < pts["x0"].min() and region["x0"].max() > pts["x0"].max()
        assert region["x1"].min() < pts["x1"].min() and region["x1"].max() > pts["x1"].max()
    # circles with an activation: the centre is class 0, the far corners class 1
    region = default_result["training"]["nets"]["with"].region
    centre = np.argmin(region["x0"] ** 2 + region["x1"] ** 2)
    corner = np.argmax(region["x0"] ** 2 + region["x1"] ** 2)
    assert region["p"][centre] < 0.5 < region["p"][corner]


def test_summary_is_json_and_has_the_keys(default_result):
    s = summary(default_result)
    text = json.dumps(s, allow_nan=False)  # plain JSON: no numpy types, no NaN
    assert set(json.loads(text)) == {"curves", "softmax", "training"}
    assert set(s["curves"]) == {"sigmoid", "tanh", "relu"}
    assert s["curves"]["sigmoid"]["df_at_0"] == pytest.approx(0.25)
    assert s["curves"]["tanh"]["df_at_0"] == pytest.approx(1.0)
    assert sum(s["softmax"]) == pytest.approx(1.0)
    assert len(s["softmax"]) == 4
    assert s["training"]["with"]["activation"] == "relu"
    assert s["training"]["without"]["activation"] == "none"
    assert s["training"]["with"]["accuracy"] >= 0.97
    assert set(s["training"]["with"]) == {"activation", "outcome", "accuracy", "loss"}


def test_curves_follow_the_params():
    p = replace(ActivationsParams(), functions=("gelu", "leaky_relu"), x_min=-3.0, x_max=2.0, leaky_slope=0.3,
                epochs=10, n_points=50)
    result = run(p)
    assert [c.name for c in result["curves"]] == ["gelu", "leaky_relu"]
    leaky = result["curves"][1]
    assert leaky.x[0] == -3.0 and leaky.x[-1] == 2.0
    assert leaky.df[0] == pytest.approx(0.3)


def test_export_code_carries_the_settings():
    p = replace(ActivationsParams(), activation="tanh", dataset="xor", lr=0.05, epochs=120, leaky_slope=0.2,
                functions=("leaky_relu",))
    code = EXPERIMENT.export_code(p)
    compile(code, "<export>", "exec")  # valid Python
    assert "nn.Tanh()" in code and "nn.LeakyReLU(0.2)" in code
    assert "make_toy2d('xor'" in code and "lr=0.05" in code and "range(120)" in code
    assert "streamlit" not in code
    for name, value in asdict(p).items():  # the settings block lists every parameter
        assert f"    {name} = {value!r}" in code
