"""`python -m nnkit`: list, run, exit status 2 with one line on stderr for bad input; no streamlit."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NNKIT = ROOT / "nnkit"
TIMEOUT = 180

NO_STREAMLIT = ("import nnkit, nnkit.activations, nnkit.device, nnkit.models, nnkit.datasets.toy2d, "
                "nnkit.experiments.activations, nnkit.experiments.base, nnkit.train, nnkit.__main__, sys; "
                "from nnkit.experiments import registry; registry(); "
                "assert 'streamlit' not in sys.modules, 'streamlit was imported'; print('ok')")

# Every command the tests below need; started together (each pays torch's import) and awaited once.
COMMANDS = {
    "list": ["-m", "nnkit", "list"],
    "run": ["-m", "nnkit", "run", "activations", "--set", "activation=tanh", "--set", "epochs=50", "--json"],
    "unknown_experiment": ["-m", "nnkit", "run", "nosuch"],
    "unknown_parameter": ["-m", "nnkit", "run", "activations", "--set", "learning_rate=0.1"],
    "not_a_number": ["-m", "nnkit", "run", "activations", "--set", "lr=abc"],
    "out_of_range": ["-m", "nnkit", "run", "activations", "--set", "lr=5"],
    "no_equals": ["-m", "nnkit", "run", "activations", "--set", "noequals"],
    "no_streamlit": ["-c", NO_STREAMLIT],
}


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNKIT_DEVICE")}
    env["OMP_NUM_THREADS"] = "1"  # eight processes share the CPUs; tiny tensors need no threads
    procs = {name: subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, args in COMMANDS.items()}
    done = {}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=TIMEOUT)
            done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


def test_list(results):
    r = results["list"]
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "activations" in [line.strip() for line in lines if not line.startswith(" ")]
    names = {line.split()[0] for line in lines if line.startswith("  ")}
    assert {"lr", "dataset", "epochs", "activation", "functions", "logits", "seed"} <= names
    lr_line = next(line for line in lines if line.split()[:1] == ["lr"])
    assert "float" in lr_line and "default=0.03" in lr_line and "[0.0001, 1]" in lr_line
    dataset_line = next(line for line in lines if line.split()[:1] == ["dataset"])
    assert "{circles, xor, moons, spiral}" in dataset_line and "default=circles" in dataset_line


def test_list_shows_booleans_as_true_or_false(results):
    lines = results["list"].stdout.splitlines()
    zero_grad = next(line for line in lines if line.split()[:1] == ["zero_grad"])
    assert zero_grad.split() == ["zero_grad", "bool", "default=true", "{true,", "false}"]
    assert not any("bool" in line and "inf" in line for line in lines)


def test_list_shows_every_experiment_and_every_parameter(results):
    from nnkit.experiments import registry
    from nnkit.experiments.base import specs

    listed, guided, current = {}, {}, None
    for line in results["list"].stdout.splitlines():
        if line.startswith("  guided: "):
            guided[current] = line.split(": ", 1)[1].split(", ")
        elif line.startswith("  "):
            listed[current].append(line.split()[0])
        else:
            current = line.strip()
            listed[current] = []
    assert listed == {name: list(specs(e.params_cls)) for name, e in registry().items()}
    assert guided == {name: [g.id for g in e.guided] for name, e in registry().items()}


def test_run_starts_from_a_guided_experiment(capsys):
    from nnkit.__main__ import main

    assert main(["run", "regression", "--guided", "no_zero_grad", "--set", "iterations=20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "linear" and out["by_hand"]["outcome"] == "completed"
    assert main(["run", "regression", "--guided", "nope"]) == 2
    assert "unknown guided experiment 'nope' of regression; known: small_lr, zigzag" in capsys.readouterr().err


def test_run_json(results):
    r = results["run"]
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 1  # one JSON object, on one line
    summary = json.loads(r.stdout)
    assert isinstance(summary, dict)
    assert set(summary) == {"curves", "softmax", "training"}
    assert summary["training"]["with"]["activation"] == "tanh"
    assert summary["training"]["without"]["activation"] == "none"
    assert summary["training"]["with"]["outcome"] == "completed"
    assert summary["training"]["with"]["accuracy"] > summary["training"]["without"]["accuracy"] + 0.2
    assert sum(summary["softmax"]) == pytest.approx(1.0)


@pytest.mark.parametrize("case, words", [
    ("unknown_experiment", ["unknown experiment", "nosuch"]),
    ("unknown_parameter", ["unknown parameter", "learning_rate"]),
    ("not_a_number", ["lr", "abc", "not a number"]),
    ("out_of_range", ["lr", "outside", "[0.0001, 1]"]),
    ("no_equals", ["key=value", "noequals"]),
])
def test_bad_input_exits_2_with_one_line(results, case, words):
    r = results[case]
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("nnkit:")
    for word in words:
        assert word in lines[0]
    assert r.stdout == ""  # nothing was run


def _python_files() -> list[Path]:
    files = sorted(NNKIT.rglob("*.py"))
    assert NNKIT / "__main__.py" in files and NNKIT / "train.py" in files
    return files


def test_no_streamlit_import_in_source():
    pattern = re.compile(r"^\s*(import\s+streamlit\b|from\s+streamlit\b)|^\s*import\s+.*\bstreamlit\b",
                         re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in _python_files() if pattern.search(p.read_text())]
    assert offenders == []


def test_no_streamlit_import_in_syntax_tree():
    """Also catches an import inside a function or a `try:` block, however it is written."""
    offenders = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if any(m == "streamlit" or m.startswith("streamlit.") for m in modules):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_importing_nnkit_does_not_load_streamlit(results):
    r = results["no_streamlit"]
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"

