"""What a server process keeps for all its sessions is bounded: every Streamlit cache in ui/ and
pages/ that takes arguments (so that each new setting adds an entry) names its most entries, and
those holding chart specs or results (cache_data) keep at most 64. Datasets and models on the
training device are held once per process (cache_resource), a few at a time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOST_DATA_ENTRIES = 64  # a chart spec with its data pickles to up to ~400 KB: 64 of them ~25 MB a function
MOST_RESOURCE_ENTRIES = 3  # a dataset on the device: MNIST as float32 is ~220 MB


def cache_calls(path: Path):
    """(kind, max_entries or None, takes arguments) of every st.cache_data / st.cache_resource in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        decorators = node.decorator_list if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        for call in [*decorators, *([node.value] if isinstance(node, ast.Assign) else [])]:
            target = call.func if isinstance(call, ast.Call) else call
            if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
                entries = next((k.value.value for k in getattr(call, "keywords", []) if k.arg == "max_entries"), None)
                takes_arguments = isinstance(node, ast.Assign) or bool(node.args.args or node.args.vararg)
                yield target.attr, entries, takes_arguments


def test_every_cache_with_arguments_is_bounded():
    found = []
    for path in [*ROOT.glob("ui/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]:
        for kind, entries, takes_arguments in cache_calls(path):
            found.append(kind)
            if takes_arguments:
                most = MOST_DATA_ENTRIES if kind == "cache_data" else MOST_RESOURCE_ENTRIES
                where = path.relative_to(ROOT)
                assert entries is not None, f"{where}: a {kind} with arguments needs max_entries"
                assert entries <= most, f"{where}: {kind}(max_entries={entries}) over {most}"
    assert "cache_data" in found and "cache_resource" in found  # the scan sees the caches it checks
