"""The run history of a page, as a learner uses it: train, change one setting, train again, compare,
restore, delete, load a file back; bounded, with the learner told."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from nnkit.experiments.activations import ActivationsParams as P
from nnkit.runs import RunRecord
from tests.conftest import open_page, setting
from tests.test_app_pages import charts
from ui import runs

QUICK = {"epochs": "20", "n_points": "100"}


def _runs(at) -> list:
    return at.session_state["activations.runs"].runs


def _table(at):
    return at.dataframe[0].value


def _overlay(at) -> dict | None:
    """The run history's overlay: the one chart whose colours are the runs' own (a domain and a range)."""
    return next((c for c in charts(at) if "run" in json.dumps(c.get("encoding", {}).get("color", {}))
                 and {"domain", "range"} <= set(c["encoding"]["color"].get("scale", {}))), None)


def test_each_training_is_kept_and_the_table_shows_what_differs():
    at = open_page("activations", query=QUICK)
    assert [r.label for r in _runs(at)] == ["#1"]
    setting(at, P, "lr").set_value(0.1).run()
    setting(at, P, "activation").set_value("tanh").run()
    assert not at.exception
    assert [r.label for r in _runs(at)] == ["#1", "#2", "#3"]
    table = _table(at)
    # only the changed settings, with their page labels, then outcome and final numbers
    assert list(table.columns)[:4] == ["#", "Colour", "Activation of the hidden layers", "Learning rate"]
    assert list(table["Learning rate"]) == ["0.03", "0.1", "0.1"]
    assert list(table["Activation of the hidden layers"]) == ["ReLU", "ReLU", "Tanh"]
    assert list(table["Outcome"]) == ["completed"] * 3
    accuracy = [float(v) for v in table["Accuracy with"]]
    assert accuracy == [pytest.approx(r.record.summary["accuracy"], abs=5e-4) for r in _runs(at)]
    # the same settings again are the same run, not a fourth
    setting(at, P, "activation").set_value("relu").run()
    assert len(_runs(at)) == 3


def test_the_overlay_draws_the_ticked_runs_in_their_table_colours():
    at = open_page("activations", query={"epochs": "300", "n_points": "100"})
    setting(at, P, "lr").set_value(0.1).run()
    spec = _overlay(at)
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"] == ["#1", "#2"] and scale["range"] == [runs.COLOURS[0], runs.COLOURS[1]]
    losses = [row["loss"] for r in _runs(at) for row in r.record.history]
    assert max(losses) / min(losses) > 10 and spec["encoding"]["y"]["scale"]["type"] == "log"  # across decades
    at.multiselect(key="activations.runs.ticked").set_value(["#2"]).run()
    assert _overlay(at)["encoding"]["color"]["scale"]["domain"] == ["#2"]
    setting(at, P, "lr").set_value(0.2).run()  # a new run is ticked; #1 stays unticked
    assert at.multiselect(key="activations.runs.ticked").value == ["#2", "#3"]
    assert _overlay(at)["encoding"]["color"]["scale"]["domain"] == ["#2", "#3"]
    at.selectbox(key="activations.runs.metric").set_value("acc_without").run()
    spec = _overlay(at)
    assert spec["encoding"]["y"]["title"] == "Training accuracy, without an activation"
    assert "type" not in spec["encoding"]["y"].get("scale", {})  # accuracy: linear


def test_a_loss_within_one_decade_is_drawn_on_a_linear_axis():
    at = open_page("activations", query=QUICK)  # 20 epochs: the loss has not fallen tenfold
    losses = [row["loss"] for row in _runs(at)[0].record.history]
    assert max(losses) / min(losses) < 10
    assert "type" not in _overlay(at)["encoding"]["y"]["scale"]  # a log axis would label no tick


def test_restore_puts_a_runs_settings_back_in_the_page_and_the_link():
    at = open_page("activations", query=QUICK)
    setting(at, P, "lr").set_value(0.1).run()
    setting(at, P, "hidden_size").set_value(40).run()
    assert len(_runs(at)) == 3
    at.selectbox(key=f"activations.runs.pick.{at.session_state['activations.runs'].version}").set_value("#1").run()
    at.button(key="activations.runs.restore").click().run()
    assert not at.exception
    assert setting(at, P, "lr").value == 0.03 and setting(at, P, "hidden_size").value == 16
    assert at.query_params.get("lr") in (None, "0.03") and "hidden_size" not in at.query_params
    assert len(_runs(at)) == 3  # run #1 is shown again, not a new run


def test_delete_and_delete_all():
    at = open_page("activations", query=QUICK)
    setting(at, P, "lr").set_value(0.1).run()
    version = at.session_state["activations.runs"].version
    at.selectbox(key=f"activations.runs.pick.{version}").set_value("#1").run()
    at.button(key="activations.runs.delete").click().run()
    assert [r.label for r in _runs(at)] == ["#2"]
    at.button(key="activations.runs.clear").click().run()
    assert _runs(at) == [] and not at.exception
    assert "Your runs (0)" in [e.label for e in at.expander]


def test_the_oldest_run_is_dropped_and_the_learner_told(monkeypatch):
    monkeypatch.setattr(runs, "MAX_RUNS", 2)
    at = open_page("activations", query=QUICK)
    setting(at, P, "lr").set_value(0.1).run()
    setting(at, P, "lr").set_value(0.2).run()
    assert [r.label for r in _runs(at)] == ["#2", "#3"]
    assert any("Dropped to make room: #1." in i.value and "last 2 runs" in i.value for i in at.info)
    at.run()
    assert not any("Dropped to make room" in i.value for i in at.info)  # told once


def _loader(data: bytes, name: str, lang: str = "en"):
    def script(data, name, lang):
        import streamlit as st

        from nnkit.experiments.activations import ActivationsParams
        from ui import runs

        st.session_state["lang"] = lang
        runs.load("activations", ActivationsParams, "upload-1", name, lambda: data)
        runs.panel("activations", ActivationsParams, {"loss": "loss"}, {"accuracy": "accuracy"})

    return AppTest.from_function(script, kwargs={"data": data, "name": name, "lang": lang}, default_timeout=60)


def _saved_run(**settings) -> RunRecord:
    from nnkit.experiments.activations import EXPERIMENT

    params = P(**{**{"epochs": 20, "n_points": 100}, **settings})
    return EXPERIMENT.record(params, EXPERIMENT.run(params))


def test_a_saved_run_loads_back_and_is_tagged():
    record = _saved_run()
    at = _loader(record.to_json().encode(), "my run.json").run()
    assert not at.exception
    loaded = at.session_state["activations.runs"].runs
    assert [r.record.history for r in loaded] == [record.history] and loaded[0].record.tags == ["loaded"]
    assert at.success[0].value == "Loaded 1 run(s) from `my run.json`."
    at.run()  # the same upload is not added again on the next rerun
    assert len(at.session_state["activations.runs"].runs) == 1


@pytest.mark.parametrize("data, says", [
    (b"\x80\x04K\x01.", "it is not a JSON file."),
    (b'{"format": "nnkit-run", "version": 7}', "version 7"),
    (b'{"a": 1}', "not a run saved by NN Playground"),
])
def test_a_bad_file_gets_a_message_and_the_page_keeps_working(data, says):
    at = _loader(data, "[click](https://evil.example)", "en").run()
    assert not at.exception
    error = at.error[0].value
    assert says in error and "`[click](https://evil.example)`" in error
    assert at.session_state["activations.runs"].runs == []


def test_a_run_of_another_page_or_with_foreign_settings_is_refused():
    from nnkit.experiments.regression import EXPERIMENT as REG, RegressionParams

    params = RegressionParams(iterations=5)
    other = REG.record(params, REG.run(params))
    at = _loader(other.to_json().encode(), "r.json").run()
    assert "another page (`regression`)" in at.error[0].value
    record = _saved_run()
    record.settings["hidden_size"] = "9999"
    at = _loader(record.to_json().encode(), "x.json", "zh").run()
    assert "设置不适用于本页" in at.error[0].value and "hidden_size" in at.error[0].value


def test_the_page_and_the_cli_record_the_same_run(tmp_path):
    from nnkit.__main__ import main

    at = open_page("regression", query={"iterations": "50", "lr": "0.05", "zero_grad": "false"})
    page = at.session_state["regression.runs"].runs[0].record
    path = tmp_path / "cli.json"
    assert main(["run", "regression", "--set", "iterations=50", "--set", "lr=0.05", "--set", "zero_grad=false",
                 "--save-run", str(path)]) == 0
    cli = RunRecord.from_json(path.read_text(encoding="utf-8"))
    assert (cli.settings, cli.history, cli.summary, cli.outcome) == (page.settings, page.history, page.summary,
                                                                     page.outcome)
    assert page.settings["zero_grad"] == "false" and len(page.history) == 50


def test_a_cli_run_uploaded_on_its_page_joins_the_table(tmp_path):
    from nnkit.__main__ import main

    path = tmp_path / "cli.json"
    assert main(["run", "activations", "--set", "epochs=20", "--set", "n_points=100", "--set", "activation=tanh",
                 "--save-run", str(path)]) == 0
    at = open_page("activations", query=QUICK)
    at.file_uploader(key="activations.runs.upload").set_value(("cli.json", path.read_bytes(), "application/json")).run()
    assert not at.exception
    assert [(r.label, r.record.settings["activation"], r.record.tags) for r in _runs(at)] == \
        [("#1", "relu", []), ("#2", "tanh", ["loaded"])]
    assert list(_table(at)["Activation of the hidden layers"]) == ["ReLU", "Tanh"]


def test_loading_a_download_back_adds_nothing_new():
    from nnkit.runs import bundle

    at = open_page("activations", query=QUICK)
    setting(at, P, "lr").set_value(0.1).run()
    download = bundle([r.record for r in _runs(at)]).encode()
    at.file_uploader(key="activations.runs.upload").set_value(("runs.json", download, "application/json")).run()
    assert not at.exception
    assert [r.label for r in _runs(at)] == ["#1", "#2"]


def test_boolean_settings_read_on_and_off_in_the_table():
    at = open_page("regression", "zh", {"iterations": "20"})
    at.toggle(key="regression.zero_grad").set_value(False).run()
    table = next(d.value for d in at.dataframe if "颜色" in d.value.columns)
    assert list(table[next(c for c in table.columns if "梯度" in c)]) == ["开", "关"]
