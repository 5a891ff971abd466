"""Run records: JSON both ways, the CLI's --save-run, hostile files refused, CSV for spreadsheets."""

from __future__ import annotations

import json
import pickle

import pytest

from nnkit.__main__ import main
from nnkit.experiments import registry
from nnkit.experiments.regression import RegressionParams
from nnkit.runs import (MAX_BYTES, RunFileError, RunRecord, bundle, differing, read_bundle, settings_of,
                        to_csv)


OLD_DATA = {"n_points": 100, "noise": 0.3}  # the regression data these tests measured their numbers on


def _record(name: str, **settings) -> RunRecord:
    exp = registry()[name]
    params = exp.params_cls(**{**(OLD_DATA if name == "regression" else {}), **settings})
    return exp.record(params, exp.run(params))


def test_a_record_survives_json_exactly():
    record = _record("regression", iterations=30)
    back = RunRecord.from_json(record.to_json())
    assert back == record
    assert back.history[0] == {"step": 0, "loss": pytest.approx(6.0285587497), "loss_nn_linear": back.history[0]["loss"],
                               "w": 0.0, "b": 0.0}
    assert back.summary["least_squares_w"] == pytest.approx(1.99577, abs=1e-5)
    assert 1e-4 < back.summary["distance"] < 0.1  # 30 steps: close to least squares, not there yet


def test_the_cli_writes_the_run_the_experiment_makes(tmp_path, capsys):
    path = tmp_path / "run.json"
    assert main(["run", "regression", "--set", "iterations=40", "--set", "lr=0.05", "--set", "n_points=100",
                 "--set", "noise=0.3", "--save-run", str(path)]) == 0
    saved = RunRecord.from_json(path.read_text(encoding="utf-8"))
    here = _record("regression", iterations=40, lr=0.05)
    assert saved.settings == here.settings
    assert saved.history == here.history and saved.summary == here.summary
    assert settings_of(saved, RegressionParams) == {"task": "linear", "n_points": 100, "noise": 0.3, "lr": 0.05,
                                                    "iterations": 40, "true_w": 2.0, "true_b": -1.0,
                                                    "init": "zeros", "zero_grad": True, "seed": 0}


def test_the_cli_says_when_a_run_trains_nothing(tmp_path, capsys):
    assert main(["run", "regression", "--set", "task=polynomial", "--save-run", str(tmp_path / "x.json")]) == 2
    assert "trains nothing" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_a_diverged_run_is_still_valid_json():
    record = _record("regression", task="multiple", standardize=False, spread=10.0, lr=0.1, iterations=200)
    assert record.outcome == "diverged"
    text = record.to_json()
    json.loads(text)  # strict JSON: no NaN or Infinity tokens
    assert "NaN" not in text and "Infinity" not in text
    assert record.summary["loss_raw"] is None and record.summary["loss_standardized"] < 1


@pytest.mark.parametrize("text, code", [
    (b"\x80\x04\x95" + pickle.dumps({"format": "nnkit-run"}), "not_json"),
    ("[1, 2", "not_json"),
    ('{"format": "other"}', "not_run"),
    ('{"format": "nnkit-run", "version": 99}', "version"),
    (json.dumps({"format": "nnkit-run", "version": 1, "experiment": "regression", "settings": {"lr": {"x": 1}},
                 "history": [], "summary": {}, "outcome": "completed", "x": "step", "tags": [], "created": ""}), "field"),
    (json.dumps({"format": "nnkit-run", "version": 1, "experiment": "regression", "settings": {},
                 "history": [{"step": "<script>"}], "summary": {}, "outcome": "completed", "x": "step", "tags": [],
                 "created": ""}), "field"),
    (json.dumps({"format": "nnkit-run", "version": 1, "experiment": "regression", "settings": {},
                 "history": [], "summary": {}, "outcome": "completed", "x": "step", "created": ""}), "field"),
    (" " * (MAX_BYTES + 1), "too_big"),
    ("[" * 100_000, "not_json"),
])
def test_a_damaged_or_hostile_file_is_refused_by_name(text, code):
    with pytest.raises(RunFileError) as err:
        RunRecord.from_json(text)
    assert err.value.code == code


def test_settings_that_do_not_fit_the_page_are_refused():
    record = _record("regression", iterations=5)
    record.settings["lr"] = "99"
    with pytest.raises(RunFileError) as err:
        settings_of(record, RegressionParams)
    assert err.value.code == "settings" and "lr" in err.value.details["settings"]
    record.settings = {"hidden_size": "3"}
    with pytest.raises(RunFileError):
        settings_of(record, RegressionParams)


def test_differing_names_only_what_changed():
    a, b = _record("regression", iterations=5), _record("regression", iterations=5, lr=0.2)
    c = _record("regression", task="multiple", iterations=5)
    assert differing([a]) == []
    assert differing([a, b]) == ["lr"]
    assert set(differing([a, b, c])) >= {"task", "lr", "true_w", "true_weights"}


def test_csv_lays_runs_side_by_side_and_disarms_formulas():
    a, b = _record("regression", iterations=3), _record("regression", iterations=2, lr=0.2)
    b.settings["init"] = "=HYPERLINK(\"http://evil\")"
    lines = to_csv([a, b], ["#1", "#2"]).splitlines()
    assert lines[0].split(",")[:4] == ["run", "experiment", "outcome", "task"]
    assert len(lines) == 1 + 3 + 2
    assert lines[1].startswith("#1,regression,completed,linear,100,0.3,0.1,3,")
    assert "'=HYPERLINK" in lines[-1]


def test_a_bundle_reads_back_as_the_same_runs():
    runs = [_record("regression", iterations=3), _record("activations", epochs=10)]
    assert read_bundle(bundle(runs)) == runs
    assert read_bundle(runs[0].to_json()) == runs[:1]
    with pytest.raises(RunFileError):
        read_bundle("[]")


def test_a_long_history_is_thinned_evenly_keeping_both_ends():
    from nnkit.runs import KEPT_ROWS

    record = _record("regression", iterations=5000, lr=0.01)
    steps = [row["step"] for row in record.history]
    assert len(steps) <= KEPT_ROWS and steps[0] == 0 and steps[-1] == 4999
    assert len({b - a for a, b in zip(steps, steps[1:-1])}) == 1  # even spacing
    assert RunRecord.from_json(record.to_json()).history == record.history  # thinning twice changes nothing


def _file(**fields) -> str:
    good = json.loads(_record("regression", iterations=3).to_json())
    return json.dumps({**good, **fields})


@pytest.mark.parametrize("fields", [
    {"outcome": "=cmd|' /C calc'!A0"},  # only the outcomes this module writes
    {"x": "@SUM(A1)"},
    {"history": [{"step": 0, "=HYPERLINK(1)": 1.0}]},  # names are identifiers
    {"settings": {"lr": "0.1", "a b": "1"}},
    {"summary": {"accuracy": 10 ** 400}},  # a number no chart or table can format
    {"summary": {"accuracy": "<b>1</b>"}},
    {"history": []},  # a run with nothing to draw
    {"settings": {}},  # nothing to restore
    {"tags": ["[x](https://evil.example)"]},
])
def test_a_file_that_would_inject_or_crash_is_refused(fields):
    with pytest.raises(RunFileError) as err:
        RunRecord.from_json(_file(**fields))
    assert err.value.code == "field"
    with pytest.raises(RunFileError):
        read_bundle("[" + _file() + "," + _file(**fields) + "]")  # one bad run refuses the whole file


def test_every_csv_cell_a_spreadsheet_would_run_is_quoted():
    record = RunRecord.from_json(_file())
    record.settings["init"] = "\t=1+1"
    text = to_csv([record], ["=evil"])
    assert "'=evil" in text and "'\t=1+1" in text
    assert all(not line.startswith(("=", "+", "@")) for line in text.splitlines())
