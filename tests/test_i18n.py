"""Every text a learner reads exists in English and Chinese; code asks only for keys that exist."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from nnkit.activations import CURVE_NAMES
from nnkit.checkpoints import ERROR_CODES as MODEL_FILE_CODES
from nnkit.datasets.images import ERROR_CODES as DATASET_CODES
from nnkit.datasets.tabular import ERROR_CODES
from nnkit.preprocess import ERROR_CODES as PICTURE_CODES
from nnkit.experiments import registry
from nnkit.runs import RunFileError
from nnkit.experiments.base import specs
from nnkit.experiments.dropout import RUN_FINALS as DRP_FINALS, RUN_METRICS as DRP_METRICS, SECTIONS as DRP_SECTIONS
from nnkit.experiments.gradients import RUN_FINALS as GRD_FINALS, RUN_METRICS as GRD_METRICS, SECTIONS as GRD_SECTIONS
from nnkit.experiments.optimizers import RUN_FINALS as OPT_FINALS, RUN_METRICS as OPT_METRICS, SECTIONS as OPT_SECTIONS
from nnkit.experiments.overfitting import SECTIONS as OVF_SECTIONS
from nnkit.experiments.schedulers_range import BATCH_RUNS as SCH_BATCH_RUNS, RATES as SCH_RATES
from nnkit.experiments.schedulers import RUN_FINALS as SCH_FINALS, RUN_METRICS as SCH_METRICS, SECTIONS as SCH_SECTIONS
from nnkit.experiments.optimizers_data import METHODS as DATA_METHODS
from nnkit.experiments.optimizers_triad import SHARES as TRIAD_SHARES
from nnkit.landscapes import NAMES as LANDSCAPE_NAMES
from nnkit.schedules import CALLS as SCHEDULER_CALLS, NAMES as SCHEDULER_NAMES
from nnkit.updates import NAMES as RULE_NAMES
from ui.locales import en, zh

ROOT = Path(__file__).resolve().parents[1]
LANGS = {"en": en.STRINGS, "zh": zh.STRINGS}
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_same_keys_in_both_languages():
    missing_zh = sorted(set(en.STRINGS) - set(zh.STRINGS))
    missing_en = sorted(set(zh.STRINGS) - set(en.STRINGS))
    assert not missing_zh and not missing_en, f"missing in zh: {missing_zh}; missing in en: {missing_en}"


PAGE_FILES = ("common", "activations", "regression", "classification", "overfitting", "overfitting_regularization",
              "overfitting_validation", "dropout", "gradients", "optimizers", "optimizers_network",
              "optimizers_convexity", "schedulers", "schedulers_training")


@pytest.mark.parametrize("name", PAGE_FILES)
def test_each_page_file_holds_the_same_keys_in_both_languages(name):
    import importlib

    english, chinese = (importlib.import_module(f"ui.locales.{lang}.{name}").STRINGS for lang in LANGS)
    assert sorted(english) == sorted(chinese)


def test_a_key_defined_in_two_page_files_is_refused():
    from ui.locales import merge

    with pytest.raises(ValueError, match="defined twice: \\['act.title'\\]"):
        merge({"act.title": "a"}, {"act.title": "b"})


@pytest.mark.parametrize("lang", LANGS)
def test_no_empty_text(lang):
    assert [k for k, v in LANGS[lang].items() if not v.strip()] == []


def test_placeholders_agree():
    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert {k: fields(v) for k, v in en.STRINGS.items() if fields(v) != fields(zh.STRINGS[k])} == {}


def test_chinese_texts_are_translated():
    """Names (ReLU, XOR...) may stay as they are; sentences must be in Chinese."""
    untranslated = [k for k, v in zh.STRINGS.items() if len(v) > 25 and not HAN.search(v)]
    assert untranslated == []


def _keys_in_code() -> set[str]:
    keys = set()
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        keys |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    return keys


def _keys_built_at_run_time() -> set[str]:
    """Keys the code builds with f-strings: derived from the experiments and the page list."""
    keys = set()
    for experiment in registry().values():
        for name, (_, spec) in specs(experiment.params_cls).items():
            if spec.ui:
                scoped = f"param.{getattr(experiment.params_cls, 'texts', '')}.{name}"
                key = scoped if scoped in en.STRINGS else f"param.{name}"
                keys |= {key, f"{key}.help"}
            keys |= {f"choice.{c}" for c in spec.choices}
    keys |= {f"guided.{e.name}.{g.id}.{part}" for e in registry().values() for g in e.guided
             for part in ("title", "look")}
    keys |= {f"runs.outcome.{o}" for o in ("completed", "stopped", "diverged")}
    keys |= {"runs.true", "runs.false"} | {f"runs.tag.{tag}" for tag in ("resumed", "loaded")} | {f"runs.x.{x}" for x in ("epoch", "step")}
    keys |= {f"runs.error.{code}" for code in RunFileError.codes}
    keys |= {f"act.runs.{m}" for m in ("loss", "acc", "loss_without", "acc_without")}
    keys |= {f"reg.runs.{m}" for m in ("loss", "loss_nn_linear", "w", "b", "loss_raw", "loss_standardized", "distance")}
    keys |= {f"act.explain.{name}" for name in CURVE_NAMES}
    keys |= {"act.with", "act.without"}
    keys |= {f"csv.error.{code}" for code in ERROR_CODES}
    keys |= {f"cls.curve.{k}" for k in ("step_loss", "step_acc", "train_loss", "val_loss", "train_acc", "val_acc",
                                        "running_loss", "running_acc")}
    keys |= {f"cls.runs.{k}" for k in ("epochs", "train_accuracy", "val_accuracy", "val_loss")}
    keys |= {f"cls.data.{code}" for code in DATASET_CODES}
    keys |= {f"cls.draw.error.{code}" for code in PICTURE_CODES}
    keys |= {f"cls.files.error.{code}" for code in (*MODEL_FILE_CODES, "missing")}
    keys |= {"cls.files.kind.state_dict", "cls.files.kind.checkpoint", "cls.losses.cross_entropy", "cls.losses.mse"}
    keys |= {f"cls.tab.{tab}" for tab in ("data", "train", "evaluate", "draw", "files", "losses")}
    keys |= {f"cls.source.{name}" for name in ("digits", "mnist", "fashion-mnist")}
    keys |= {f"cls.train.{which}{one}" for which in ("start", "more") for one in ("", ".one")}
    keys |= {f"sidebar.device.{code}" for code in ("requested", "unknown", "unavailable")}
    keys |= {f"param.error.{code}" for code in ("not_int", "not_number", "not_finite", "outside", "not_bool",
                                                "not_choice", "count", "unknown_name")}
    keys |= {f"reg.{part}" for part in ("linear", "multiple", "polynomial", "raw", "standardized", "train", "val")}
    keys |= {f"reg.{task}.intro" for task in ("linear", "multiple", "polynomial")}
    keys |= {f"ovf.{section}{part}" for section in OVF_SECTIONS for part in ("", ".intro")}
    keys |= {f"ovf.depth.{v}" for v in ("helped", "hurt")} | {f"ovf.model.{m}" for m in ("small", "large")}
    keys |= {f"ovf.set.{s}" for s in ("train", "val", "test")}
    keys |= {f"ovf.reg.geometry.{kind}" for kind in ("l1", "l2")}
    keys |= {f"ovf.runs.{m}" for m in ("train_loss", "val_loss", "params")}
    keys |= {f"ovf.aug.{k}" for k in ("plain", "augmented", "helped", "hurt", "same")}  # the augmentation section
    keys |= {f"drp.{section}{part}" for section in DRP_SECTIONS for part in ("", ".intro")}
    keys |= {f"drp.runs.{m}" for m in DRP_METRICS + DRP_FINALS}
    keys |= {f"grd.{section}{part}" for section in GRD_SECTIONS for part in ("", ".intro")}
    keys |= {f"grd.runs.{m}" for m in GRD_METRICS + GRD_FINALS}
    keys |= {f"grd.clip.{k}" for k in ("grad_norm", "grad_norm_clipped")} | {f"grd.role.{r}" for r in ("broken", "fixed")}
    keys |= {f"grd.overflow.{w}" for w in ("activations", "loss", "gradients")}
    keys |= {f"grd.setup.{k}" for k in ("batch_norm", "residual")}
    keys |= {f"grd.stat.flat.{a}" for a in ("sigmoid", "tanh", "relu")}
    keys |= {f"grd.verdict.{v}" for v in ("healthy", "vanishing", "exploding")}
    keys |= {f"grd.hand.phase.{v}" for v in ("start", "forward", "backward", "update")}
    keys |= {f"opt.{section}{part}" for section in OPT_SECTIONS for part in ("", ".intro")}
    keys |= {f"opt.runs.{m}" for m in OPT_METRICS + OPT_FINALS}
    keys |= {f"opt.land.{name}" for name in LANDSCAPE_NAMES} | {f"opt.rule.{name}" for name in RULE_NAMES}
    keys |= {f"opt.triad.kind.{kind}" for kind in TRIAD_SHARES} | {f"opt.data.method.{m}" for m in DATA_METHODS}
    keys |= {f"opt.net.{kind}.{x}" for kind in ("chart.train_loss", "chart.val_loss", "chart.val_acc") for x in
             ("epoch", "seconds")} | {f"opt.net.axis.{a}" for a in ("epoch", "seconds", "train_loss", "val_loss", "val_acc")}
    keys |= {f"opt.net.{v}.{c}" for v in ("vs", "vs.alone") for c in ("higher", "lower", "same")}
    keys |= {f"opt.net.rank.{r}" for r in ("best", "tied", "behind")}
    keys |= {f"sch.{section}{part}" for section in SCH_SECTIONS for part in ("", ".intro")}
    keys |= {f"sch.runs.{m}" for m in SCH_METRICS + SCH_FINALS}
    keys |= {f"sch.formula.{name}" for name in SCHEDULER_NAMES} | {f"sch.per.{per}" for per in ("batch", "epoch")}
    keys |= {f"sch.call.{call}" for call in SCHEDULER_CALLS} | {f"sch.placement.before.{k}" for k in ("plateau", "other")}
    keys |= {f"sch.placement.{part}.{k}" for part in ("count", "comment") for k in ("plateau", "batch", "epoch")}
    keys |= {f"sch.outcome.{o}" for o in ("completed", "stopped", "diverged")}
    keys |= {f"sch.range.rate.{r}" for r in SCH_RATES} | {f"sch.batch.run.{r}" for r in SCH_BATCH_RUNS}
    prefix = {"home": "home", "activations": "act", "regression": "reg", "classification": "cls", "overfitting": "ovf",
              "dropout": "drp", "gradients": "grd", "optimizers": "opt", "schedulers": "sch"}  # the text prefix each page passes to header()
    for page in (p.stem for p in (ROOT / "pages").glob("*.py")):
        keys |= {f"{prefix[page]}.title", f"{prefix[page]}.intro", f"nav.{page}"}
        if page != "home":
            keys.add(f"home.{page}")
    return keys


def test_every_key_the_code_asks_for_exists():
    wanted = _keys_in_code() | _keys_built_at_run_time()
    assert len(wanted) > 50  # the scan found the code's keys
    assert sorted(wanted - set(en.STRINGS)) == []


def test_no_unused_keys():
    used = _keys_in_code() | _keys_built_at_run_time()
    assert sorted(set(en.STRINGS) - used) == []


@pytest.mark.parametrize("text, span", [("x", "`x`"), ("*b* :red[x] $y$", "`*b* :red[x] $y$`"), ("a`b", "``a`b``"),
                                        ("``x", "``` ``x ```"), ("two\nlines", "`two\\nlines`"),
                                        ("x" * 100, "`" + "x" * 80 + "…`")])
def test_literal_makes_a_code_span_that_holds_any_text(text, span):
    from ui.text import literal

    assert literal(text) == span


def test_a_chinese_name_filled_into_chinese_text_leaves_no_space_a_latin_name_keeps():
    """zh templates set a slot apart with spaces for Latin names ("{name} 走的"): with a Chinese name
    the space would stand inside a Chinese sentence. Format specs and English are unchanged; the page
    (t) and whoever formats a zh text directly get the same text."""
    from ui.i18n import t

    values = {"lr": 0.03, "acc": "91.6%"}
    assert "动量法走的正是学习率(0.03)" in t("opt.net.advice.sgd.alone", "zh", name="动量法", **values)
    assert "SGD 走的正是学习率(0.03)" in t("opt.net.advice.sgd.alone", "zh", name="SGD", **values)
    assert zh.STRINGS["opt.net.advice.sgd.alone"].format(name="动量法", **values) == \
        t("opt.net.advice.sgd.alone", "zh", name="动量法", **values)
    assert t("opt.net.advice.sgd.alone", "en", name="momentum", **values) == \
        str.format(en.STRINGS["opt.net.advice.sgd.alone"], name="momentum", **values)
    for key, text in zh.STRINGS.items():  # every template fills as str.format does, bar those spaces
        fields = {f: spec for _, f, spec, _ in string.Formatter().parse(text) if f}
        if fields:
            filled = {f: 0.5 if spec else "x" for f, spec in fields.items()}
            assert t(key, "zh", **filled) == str.format(text, **filled), key
