"""The early-stopping and regularization sections under AppTest: both draw in both languages, every
setting at its ends, and the page shows the numbers the CLI prints for the same link."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.base import specs
from nnkit.experiments.overfitting import SETTINGS, OverfittingParams
from ui.locales import en, zh

SECTIONS = ("early_stopping", "regularization")
FAST = {"early_stopping": {"epochs": "80", "patience": "10"}, "regularization": {"epochs": "20"}}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def specs_of(at) -> list[str]:
    """Each chart's spec with its data, as sent to the browser (the data as Arrow tables, read back)."""
    import pyarrow as pa

    def data(chart) -> str:
        tables = [pa.ipc.open_stream(d.data.data).read_all().to_pydict() for d in chart.proto.datasets]
        return json.dumps(tables, ensure_ascii=False, default=str)

    return [c.proto.spec + data(c) for c in at.get("vega_lite_chart")]


@pytest.mark.parametrize("section, n_charts", [("early_stopping", 2), ("regularization", 5)])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_section_draws_in_both_languages(section, n_charts, lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("overfitting", lang, {"section": section, **FAST[section]})
    assert not at.exception, at.exception
    assert at.header[0].value == strings[f"ovf.{section}"]
    assert len(specs_of(at)) == n_charts  # with the runs overlay
    assert any(strings[f"ovf.{section}.explain"][:30] in m.value for m in at.markdown)
    if section == "early_stopping":
        assert strings["ovf.es.test_restored"] in metrics(at)
        marks = specs_of(at)[0]
        assert all(strings[f"ovf.es.{mark}_at"].split("{")[0] in marks for mark in ("stopped", "restored"))
    else:
        assert strings["ovf.reg.decay.pair"] in at.dataframe[0].value.columns
        assert any('"type": "rect"' in s or '"mark": "rect"' in s for s in specs_of(at))  # the geometry's heatmap


def test_early_stopping_marks_the_stop_and_the_restored_epoch_with_the_clis_numbers():
    at = open_page("overfitting", "en", {"section": "early_stopping", **FAST["early_stopping"], "seed": "2"})
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "overfitting", "--set", "section=early_stopping",
                           "--set", "epochs=80", "--set", "patience=10", "--set", "seed=2", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cli, shown = json.loads(done.stdout), metrics(at)
    assert cli["stopped_epoch"] == cli["best_epoch"] + 10
    assert shown["Validation loss, restored"] == f"{cli['best_val_loss']:.4f}"
    assert shown["Validation loss, no stopping"] == f"{cli['final_val_loss']:.4f}"
    assert shown["Test loss, stopped weights"] == f"{cli['test_stopped']['loss']:.4f}"
    assert shown["Test loss, restored weights"] == f"{cli['test']['loss']:.4f}"
    marks = specs_of(at)[0]
    assert f"stopped: epoch {cli['stopped_epoch']}" in marks and f"restored: epoch {cli['best_epoch']}" in marks


def test_regularization_shows_the_clis_numbers():
    at = open_page("overfitting", "en", {"section": "regularization", "epochs": "30", "p_norm": "1", "lam": "0.003"})
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "overfitting", "--set", "section=regularization",
                           "--set", "epochs=30", "--set", "p_norm=1", "--set", "lam=0.003", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cli, shown = json.loads(done.stdout), metrics(at)
    assert shown["Validation loss, no penalty"] == f"{cli['none']['val_loss']:.4f}"
    assert shown["Validation loss, L1"] == f"{cli['penalized']['val_loss']:.4f}"
    assert shown["|w| < 0.01, L1"] == f"{cli['penalized']['near_zero']:.1%}"
    table = at.dataframe[0].value
    assert list(table[en.STRINGS["ovf.reg.decay.max_diff"]]) == [f"{cli['decay'][k]['max_diff']:.2e}"
                                                                 for k in ("sgd", "adam")]
    l1 = cli["geometry"]["l1"]
    assert any(f"the L1 optimum is ({l1[0]:.3f}, {l1[1]:.3f})" in m.value for m in at.markdown)
    assert any(m.value == en.STRINGS["ovf.reg.geometry.threshold"].format(threshold=cli["geometry"]["threshold"])
               for m in at.markdown)


def _ends(section: str) -> list[tuple[str, float]]:
    """Every number setting of the section at both ends (typed log settings too, for its own)."""
    table, out = specs(OverfittingParams), []
    for name in SETTINGS[section]:
        _, spec = table[name]
        if spec.kind in ("int", "float") and (not spec.log or name in ("lam", "weight_decay")):
            out += [(name, spec.lo), (name, spec.hi)]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("section, name, value", [(s, n, v) for s in SECTIONS for n, v in _ends(s)])
def test_every_setting_at_its_ends(section, name, value, lang, monkeypatch):
    query = {"section": section, **FAST[section], "epochs": "10", name: str(value)}
    if name == "epochs" and value > 1000:
        query["batch_size"] = "512"  # one full batch per epoch
    long_run = section == "regularization" and name == "epochs" and value > 1000
    if long_run:
        # 12 trainings of 2,000 epochs take minutes here: the page shows their progress and the
        # test moves on (the job stops itself once nobody polls it, ui.jobs.ABANDONED_AFTER_S)
        monkeypatch.setenv("NNKIT_JOB_WAIT_S", "1")
    at = open_page("overfitting", lang, query)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value  # nothing in the link was refused
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.header[0].value == strings[f"ovf.{section}"]
    if not long_run:
        assert at.metric  # the section's numbers are on screen
