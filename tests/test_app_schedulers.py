"""The Schedulers page under AppTest: each section in both languages, every setting at both ends of
its range, a setting the curves cannot take refused by name, and the numbers the CLI prints for the
same link."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page, setting
from nnkit.experiments.base import specs
from nnkit.experiments.schedulers import SETTINGS, SchedulersParams
from nnkit.schedules import CALLS, NAMES
from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}
ALL = {"schedulers": list(NAMES)}


def curves(at) -> dict[str, list[tuple[float, float]]]:
    """The learning-rate chart's curves as sent to the browser: {label: [(epoch, lr), ...]}."""
    import pyarrow as pa

    chart = next(c for c in at.get("vega_lite_chart") if "step-after" in c.proto.spec)
    (dataset,) = chart.proto.datasets
    table = pa.ipc.open_stream(dataset.data.data).read_all().to_pydict()
    out: dict = {}
    for x, lr, label in zip(table["epoch"], table["lr"], table["schedule"]):
        out.setdefault(label, []).append((x, lr))
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_schedule_overlaid_with_its_formula_in_both_languages(lang):
    strings = STRINGS[lang]
    at = open_page("schedulers", lang, ALL)
    assert not at.exception, at.exception
    assert not [e for e in at.expander if e.label.startswith(strings["runs.title"].split("{")[0])]  # curves train nothing
    assert at.title[0].value == strings["sch.title"] and at.header[0].value == strings["sch.schedules"]
    drawn = curves(at)
    assert sorted(drawn) == sorted(strings[f"choice.{n}"] for n in NAMES)
    assert drawn[strings["choice.onecycle"]][-1][0] == 30 and drawn[strings["choice.step"]][-1][0] == 30  # one axis
    assert len(drawn[strings["choice.onecycle"]]) > 100 > len(drawn[strings["choice.step"]])  # per batch, per epoch
    assert len(at.get("latex")) == len(NAMES)
    assert len(at.table[0].value) == len(NAMES)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_placement_section_draws_three_calls_and_shows_torchs_warning(lang):
    strings = STRINGS[lang]
    at = open_page("schedulers", lang, {"section": "placement", "placement_scheduler": "exponential"})
    assert not at.exception, at.exception
    assert at.header[0].value == strings["sch.placement"]
    drawn = curves(at)
    assert sorted(drawn) == sorted(strings[f"sch.call.{c}"] for c in CALLS)
    assert drawn[strings["sch.call.right"]][0][1] == 0.1 and drawn[strings["sch.call.before"]][0][1] == pytest.approx(0.09)
    assert [w.value for w in at.warning] == [strings["sch.placement.warned"]]
    assert any("before `optimizer.step()`" in c.value for c in at.code)  # torch's own warning, whole


def _ends() -> list[tuple[str, str]]:
    names = dict.fromkeys(SETTINGS["schedules"] + SETTINGS["placement"])
    return [(n, end) for n in names if specs(SchedulersParams)[n][1].kind in ("int", "float") for end in ("lo", "hi")]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("section", ["schedules", "placement"])
def test_every_setting_at_its_ends(section, lang):
    """One session per section and language: each setting set to its lowest and highest value in turn,
    then back, with every scheduler chosen (on placement: the one that reads it)."""
    from nnkit.schedules import READS

    at = open_page("schedulers", lang, {"section": section, **(ALL if section == "schedules" else {})})
    table = specs(SchedulersParams)
    for name, end in _ends():
        if section == "placement":
            owner = next((s for s, reads in READS.items() if name in reads), "step")
            setting(at, SchedulersParams, "placement_scheduler").set_value(owner).run()
        default, spec = table[name]
        setting(at, SchedulersParams, name).set_value(spec.lo if end == "lo" else spec.hi).run()
        assert not at.exception, (name, end, at.exception)
        if at.error:  # only a warm-up as long as the run is refused, by name
            assert (name, end) in {("epochs", "lo"), ("steps_per_epoch", "lo"), ("warmup_steps", "hi")}, name
            assert "warmup_steps" in at.error[0].value
        else:
            expected = len(NAMES) if section == "schedules" else len(CALLS)
            assert len(curves(at)) == expected, (name, end)
        setting(at, SchedulersParams, name).set_value(default).run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_milestone_that_is_not_a_whole_epoch_is_refused_with_a_message(lang):
    at = open_page("schedulers", lang, {"schedulers": ["multistep"], "milestones": "10.5, 20"})
    assert not at.exception, at.exception
    assert "milestones" in at.error[0].value and not at.get("vega_lite_chart")


def test_the_page_shows_the_numbers_the_cli_prints():
    query = {"schedulers": ["exponential", "onecycle", "plateau"], "epochs": "40", "exp_gamma": "0.95",
             "loss_noise": "0.05"}
    at = open_page("schedulers", "en", query)
    sets = [f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in query.items()]
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "schedulers", "--json",
                           *[a for s in sets for a in ("--set", s)]], capture_output=True, text=True, timeout=120)
    cli = json.loads(done.stdout)["schedules"]
    shown = at.table[0].value
    strings = en.STRINGS
    for name, row in zip(query["schedulers"], shown.to_dict("records")):
        assert row[strings["sch.col.schedule"]] == strings[f"choice.{name}"]
        assert [row[strings[f"sch.col.{k}"]] for k in ("first", "last", "min", "max")] == [
            f"{cli[name][k]:.6g}" for k in ("first", "last", "min", "max")]
        assert row[strings["sch.col.steps"]] == cli[name]["steps"]
