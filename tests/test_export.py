"""The "Show the PyTorch code" script runs on its own and prints the numbers the app shows."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.activations import ActivationsParams, export_code, run, summary
from nnkit.experiments.base import parse

SETTINGS = [
    {},
    {"dataset": "moons", "activation": "tanh", "hidden_layers": "2", "hidden_size": "8", "epochs": "150",
     "functions": ["leaky_relu", "gelu"], "leaky_slope": "0.2", "logits": "3, -1, 0.5", "temperature": "0.5",
     "x_min": "-5.5", "x_max": "6"},  # a grid whose point nearest 0 is 0.02
]


def run_script(code: str, tmp_path) -> str:
    script = tmp_path / "exported.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def parse_output(out: str) -> dict:
    found = {"curves": {}, "training": {}}
    for name, f0, df0, share in re.findall(r"^(\w+): f\(0\) = (\S+), f'\(0\) = (\S+), saturated share = (\S+)$", out, re.M):
        found["curves"][name] = (float(f0), float(df0), float(share))
    found["softmax"] = [float(v) for v in re.search(r"^softmax: (.*) sum =", out, re.M).group(1).split(", ")]
    for role, acc, loss in re.findall(r"^(with|without) \(.*\): accuracy = (\S+), loss = (\S+)$", out, re.M):
        found["training"][role] = (float(acc), float(loss))
    return found


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "moons-tanh"])
def test_export_reproduces_nnkit_to_six_decimals(settings, tmp_path):
    params, _ = parse(ActivationsParams, settings)
    expected = summary(run(params))
    got = parse_output(run_script(export_code(params), tmp_path))
    assert set(got["curves"]) == set(params.functions)
    for name, (f0, df0, share) in got["curves"].items():
        want = expected["curves"][name]
        assert (f0, df0, share) == pytest.approx((want["f_at_0"], want["df_at_0"], want["saturated_share"]), abs=1e-6)
    if "gelu" in got["curves"]:  # at 0 itself, not at the grid point nearest it (GELU(0.02) = 0.010160)
        assert got["curves"]["gelu"][:2] == (0.0, 0.5) and got["curves"]["leaky_relu"][:2] == (0.0, 0.2)
    assert got["softmax"] == pytest.approx(expected["softmax"], abs=1e-6)
    for role in ("with", "without"):
        acc, loss = got["training"][role]
        assert acc == pytest.approx(expected["training"][role]["accuracy"], abs=1e-6)
        assert loss == pytest.approx(expected["training"][role]["loss"], abs=1e-6)


def test_script_from_the_page_prints_what_the_page_shows(tmp_path):
    at = open_page("activations", "en", SETTINGS[1])
    code = next(c.value for c in at.code if "torch.manual_seed(SEED)" in c.value)
    got = parse_output(run_script(code, tmp_path))
    shown = [m.value for m in at.metric]  # sum, then accuracy and loss of each net
    accuracy_with, loss_with, accuracy_without, loss_without = shown[1:]
    assert f"{got['training']['with'][0]:.1%}" == accuracy_with
    assert f"{got['training']['with'][1]:.4f}" == loss_with
    assert f"{got['training']['without'][0]:.1%}" == accuracy_without
    assert f"{got['training']['without'][1]:.4f}" == loss_without
    assert f"{sum(got['softmax']):.6f}" == shown[0]


# --- regression --------------------------------------------------------------------------------

from nnkit.experiments import regression as regression_exp  # noqa: E402

NUM = r"(-?[\d.]+(?:e[-+]?\d+)?)"


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(", ")]


@pytest.mark.parametrize("settings", [{}, {"init": "randn", "zero_grad": "false", "lr": "0.05"},
                                      {"init": "constant", "init_value": "3", "lr": "10"}],
                         ids=["defaults", "randn-no-zero-grad", "constant-diverges"])
def test_regression_linear_export_matches(settings, tmp_path):
    params, _ = parse(regression_exp.RegressionParams, {"task": "linear", **settings})
    expected = regression_exp.summary(regression_exp.run(params))
    out = run_script(regression_exp.export_code(params), tmp_path)
    for name, label in (("by_hand", "by hand"), ("nn_linear", "nn.Linear")):
        if expected[name]["outcome"] == "diverged":
            assert re.search(rf"^{re.escape(label)}: diverged at step", out, re.M)
            continue
        w, b, loss = re.search(rf"^{re.escape(label)}: w = {NUM}, b = {NUM}, loss = {NUM}$", out, re.M).groups()
        assert (float(w), float(b), float(loss)) == pytest.approx(
            (expected[name]["w"], expected[name]["b"], expected[name]["final_loss"]), abs=1e-6)
    w, b = re.search(rf"^least squares: w = {NUM}, b = {NUM}$", out, re.M).groups()
    assert (float(w), float(b)) == pytest.approx((expected["least_squares"]["w"], expected["least_squares"]["b"]),
                                                 abs=1e-6)


def test_regression_multiple_export_matches(tmp_path):
    params, _ = parse(regression_exp.RegressionParams, {"task": "multiple", "true_weights": "2, -1, 0.5, 3",
                                                                "spread": "10"})
    expected = regression_exp.summary(regression_exp.run(params))
    out = run_script(regression_exp.export_code(params), tmp_path)
    assert expected["raw"]["outcome"] == "diverged"
    assert re.search(r"^raw: diverged at step \d+", out, re.M)
    weights, bias, loss = re.search(rf"^standardized: weights = (.*); bias = {NUM}; loss = {NUM}$", out, re.M).groups()
    assert _floats(weights) == pytest.approx(expected["standardized"]["weights"], abs=1e-6)
    assert float(bias) == pytest.approx(expected["standardized"]["bias"], abs=1e-6)
    assert float(loss) == pytest.approx(expected["standardized"]["final_loss"], abs=1e-6)
    best = re.search(r"^least squares: weights = (.*)$", out, re.M).group(1)
    assert _floats(best) == pytest.approx(expected["least_squares"], abs=1e-6)


def test_regression_polynomial_export_matches(tmp_path):
    params, _ = parse(regression_exp.RegressionParams, {"task": "polynomial", "truth": "sine", "degree": "7"})
    expected = regression_exp.summary(regression_exp.run(params))
    out = run_script(regression_exp.export_code(params), tmp_path)
    rows = re.findall(rf"^degree +(\d+): train MSE = {NUM}, validation MSE = {NUM}$", out, re.M)
    assert [int(d) for d, _, _ in rows] == expected["sweep"]["degree"]
    assert [float(t) for _, t, _ in rows] == pytest.approx(expected["sweep"]["train_mse"], abs=1e-6)
    assert [float(v) for _, _, v in rows] == pytest.approx(expected["sweep"]["val_mse"], abs=1e-6)
    coef = re.search(r"^coefficients \(x\^1 \.\.\. x\^k, then the bias\): (.*)$", out, re.M).group(1)
    assert _floats(coef) == pytest.approx(expected["coef"], abs=1e-6)


def test_regression_script_from_the_page_prints_what_the_page_shows(tmp_path):
    at = open_page("regression", "en", {"init": "randn", "true_w": "-1.5"})
    code = next(c.value for c in at.code if "nn.Linear(1, 1" in c.value)
    out = run_script(code, tmp_path)
    table = at.dataframe[0].value
    shown = {row: (w, b) for row, w, b in zip(table[""], table["w"], table["b"])}
    w, b, _ = re.search(rf"^by hand: w = {NUM}, b = {NUM}, loss = {NUM}$", out, re.M).groups()
    assert (float(w), float(b)) == pytest.approx(shown["by hand"], abs=1e-6)


# --- classification ----------------------------------------------------------------------------

EPOCH_LINE = (r"^epoch (\d+): train accuracy = (\S+), validation accuracy = (\S+), "
              r"train loss = (\S+), validation loss = (\S+)$")


def classification_output(out: str) -> tuple[list[dict], dict]:
    """The script's per-epoch lines as history records, and its one test line."""
    history = [{"epoch": int(e) - 1, "train_acc": float(ta), "val_acc": float(va), "train_loss": float(tl),
                "val_loss": float(vl)} for e, ta, va, tl, vl in re.findall(EPOCH_LINE, out, re.M)]
    acc, loss = re.search(r"^test accuracy = (\S+), test loss = (\S+)$", out, re.M).groups()
    return history, {"accuracy": float(acc), "loss": float(loss)}


def assert_same_history(got: list[dict], history: list[dict]):
    assert [e["epoch"] for e in got] == [e["epoch"] for e in history]
    for ours, theirs in zip(got, history):
        for key in ("train_acc", "val_acc", "train_loss", "val_loss"):
            assert ours[key] == pytest.approx(theirs[key], abs=2e-6), (ours["epoch"], key)


def test_classification_script_from_the_page_reaches_the_page_numbers(tmp_path):
    from test_app_classification import train_to_the_end

    at = train_to_the_end(open_page("classification", "en", {"epochs": "3", "hidden_size": "64"}))
    at.button(key="cls_score_test").click().run()
    shown = {}
    for m in at.metric:  # the Train tab's first: the binary section below has a training accuracy too
        shown.setdefault(m.label, m.value)
    code = next(c.value for c in at.code if "class Net(nn.Module)" in c.value)
    got, test = classification_output(run_script(code, tmp_path))
    assert len(got) == 3
    assert f"{got[-1]['val_acc']:.2%}" == shown["Validation accuracy"]
    assert f"{got[-1]['train_acc']:.2%}" == shown["Training accuracy"]
    assert f"{test['accuracy']:.2%}" == shown["Test accuracy"]
    assert_same_history(got, at.session_state["cls"]["run"].history)
    assert (tmp_path / "model_state_dict.pt").exists()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_classification_script_in_each_language_repeats_nnkit(lang, tmp_path):
    """Softmax regression trained with MSE on one-hot targets, on a larger validation share: the
    script prints nnkit's history and test score, whatever the language of its comments."""
    from nnkit.experiments import classification as C

    p, _ = parse(C.ClassificationParams, {"hidden_layers": "0", "loss": "mse", "val_fraction": "0.35",
                                          "optimizer": "sgd", "lr": "0.5", "epochs": "2", "seed": "3"})
    expected = C.summary(C.run(p))
    code = C.export_code(p, lang)
    got, test = classification_output(run_script(code, tmp_path))
    assert_same_history(got, expected["history"])
    assert test == pytest.approx({"accuracy": expected["test_accuracy"], "loss": expected["test_loss"]}, abs=2e-6)
    listed = code.split('"""', 2)[1]  # the docstring's list of settings: only those that apply
    assert "hidden_layers = 0" in listed and "hidden_size" not in listed and "activation" not in listed
    assert "loss = 'mse'" in listed and "val_fraction = 0.35" in listed
    assert ("验证集" in code) == (lang == "zh")


def test_classification_comments_exist_in_both_languages():
    from nnkit.experiments.classification_export import COMMENTS

    assert set(COMMENTS) == {"en", "zh"}
    assert COMMENTS["en"].keys() == COMMENTS["zh"].keys()
    assert all(text.strip() for table in COMMENTS.values() for text in table.values())


# --- the page's language ------------------------------------------------------------------------

from nnkit.experiments import activations as activations_exp, digits_export, gradients_export, regression_export  # noqa: E402,E501
from nnkit.experiments.base import EXPORT_LANGUAGES  # noqa: E402


@pytest.mark.parametrize("table", [activations_exp.COMMENTS, regression_export.COMMENTS, gradients_export.COMMENTS,
                                   digits_export.COMMENTS], ids=["activations", "regression", "gradients", "digits"])
def test_comment_tables_have_the_same_keys_in_every_language(table):
    assert set(table) == set(EXPORT_LANGUAGES)
    assert {lang: sorted(t) for lang, t in table.items()} == {lang: sorted(table["en"]) for lang in table}
    assert all(text.strip() for t in table.values() for text in t.values())


@pytest.mark.parametrize("experiment, settings", [
    (activations_exp, {"epochs": "30", "functions": ["leaky_relu", "elu"]}),
    (regression_exp, {"task": "linear", "init": "randn_w", "zero_grad": "false"}),
    (regression_exp, {"task": "multiple", "spread": "10"}),
    (regression_exp, {"task": "polynomial"}),
], ids=["activations", "linear", "multiple", "polynomial"])
def test_chinese_script_has_chinese_comments_and_prints_the_same_numbers(experiment, settings, tmp_path):
    params, _ = parse(experiment.EXPERIMENT.params_cls, settings)
    english, chinese = (experiment.EXPERIMENT.export_code(params, lang) for lang in ("en", "zh"))
    assert english != chinese and re.search(r"#.*[\u4e00-\u9fff]", chinese)
    assert not re.search(r"[\u4e00-\u9fff]", english)
    (tmp_path / "en").mkdir(), (tmp_path / "zh").mkdir()
    assert run_script(chinese, tmp_path / "zh") == run_script(english, tmp_path / "en")


@pytest.mark.parametrize("task, listed, left_out", [
    ("linear", {"lr", "iterations", "true_w", "zero_grad", "init"}, {"degree", "truth", "spread", "true_weights",
                                                                      "init_value"}),
    ("multiple", {"lr", "iterations", "true_weights", "spread"}, {"degree", "truth", "init", "true_w", "zero_grad"}),
    ("polynomial", {"degree", "truth", "n_points", "noise"}, {"lr", "iterations", "init", "spread", "true_b"}),
])
def test_regression_script_lists_only_the_settings_of_its_task(task, listed, left_out):
    params, _ = parse(regression_exp.RegressionParams, {"task": task})
    header = regression_exp.export_code(params).split('"""')[1]
    names = set(re.findall(r"^    (\w+) = ", header, re.M))
    assert listed <= names and not names & left_out
    constant, _ = parse(regression_exp.RegressionParams, {"task": "linear", "init": "constant", "init_value": "3"})
    assert "init_value = 3.0" in regression_exp.export_code(constant)


# --- overfitting -------------------------------------------------------------------------------

from nnkit.experiments import overfitting as overfitting_exp, overfitting_capacity  # noqa: E402


@pytest.mark.parametrize("settings", [{"epochs": "40"}, {"epochs": "40", "depth_width": "5", "batch_size": "16"},
                                      {"section": "approximation", "units": "6", "activation": "tanh",
                                       "approx_epochs": "100"},
                                      {"section": "data_size", "epochs": "20", "dataset": "circles"}],
                         ids=["capacity", "capacity-minibatch", "approximation", "data-size"])
def test_overfitting_export_matches(settings, tmp_path):
    params, _ = parse(overfitting_exp.OverfittingParams, settings)
    s = overfitting_exp.summary(overfitting_exp.run(params))
    out = run_script(overfitting_exp.export_code(params, "zh"), tmp_path)
    if params.section == "capacity":
        rows = re.findall(rf"^hidden \[(.*)\] \((\d+) parameters\): train loss = {NUM}, validation loss = {NUM}$", out, re.M)
        width, depth = s["width"], s["depth"]
        shared = params.depth_width in overfitting_capacity.WIDTHS  # depth 1 is then one of the width sweep's networks
        expected = list(zip(width["params"], width["train_loss"], width["val_loss"])) + \
            list(zip(depth["params"], depth["train_loss"], depth["val_loss"]))[1 if shared else 0:]
        assert [int(n) for _, n, _, _ in rows] == [n for n, _, _ in expected]
        assert [float(v) for _, _, a, b in rows for v in (a, b)] == pytest.approx(
            [v for _, a, b in expected for v in (a, b)], abs=1e-5)
        hidden, loss, acc = re.search(rf"^chosen \[(.*)\]: test loss = {NUM}, test accuracy = {NUM}$", out, re.M).groups()
        assert [int(h) for h in hidden.split(", ")] == s["chosen"]["hidden"]
        assert (float(loss), float(acc)) == pytest.approx((s["test"]["loss"], s["test"]["acc"]), abs=1e-5)
    elif params.section == "approximation":
        a, b = re.search(rf"^6 units: train loss = {NUM}, validation loss = {NUM}$", out, re.M).groups()
        assert (float(a), float(b)) == pytest.approx((s["train_loss"], s["val_loss"]), abs=1e-5)
    else:
        rows = re.findall(rf"^(\w+) \[\d+\], (\d+) points: train loss = {NUM}, validation loss = {NUM}$", out, re.M)
        for name in ("small", "large"):
            mine = [float(v) for n, _, a, b in rows if n == name for v in (a, b)]
            assert mine == pytest.approx([v for pair in zip(s[name]["train_loss"], s[name]["val_loss"]) for v in pair],
                                         abs=1e-5)


def test_overfitting_script_from_the_page_prints_what_the_page_shows(tmp_path):
    at = open_page("overfitting", "en", {"epochs": "30"})
    code = next(c.value for c in at.code if "make_toy2d" in c.value)
    out = run_script(code, tmp_path)
    shown = {m.label: m.value for m in at.metric}
    hidden, loss, acc = re.search(rf"^chosen (\[.*\]): test loss = {NUM}, test accuracy = {NUM}$", out, re.M).groups()
    assert hidden == shown["Chosen network"]
    assert f"{float(loss):.4f}" == shown["Test loss"] and f"{float(acc):.1%}" == shown["Test accuracy"]
