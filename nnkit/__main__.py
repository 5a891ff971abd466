"""Command line: `python -m nnkit list` and `python -m nnkit run NAME [--set k=v ...] [--json]`.

Unknown names and bad values exit with status 2 and a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _fail(message: str) -> int:
    print(f"nnkit: {message}", file=sys.stderr)
    return 2


def _list(registry) -> int:
    from nnkit.experiments.base import bounds, specs

    for name, exp in registry.items():
        print(name)
        for pname, (default, spec) in specs(exp.params_cls).items():
            if spec.kind in ("choice", "multi"):
                allowed = "{" + ", ".join(spec.choices) + "}"
            elif spec.kind == "floats":
                allowed = f"{spec.min_len}-{spec.max_len} numbers in {bounds(spec)}"
            else:
                allowed = bounds(spec)
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
            print(f"  {pname:<14} {spec.kind:<7} default={shown:<20} {allowed}")
    return 0


def _run(registry, name: str, settings: list[str], as_json: bool) -> int:
    from nnkit.experiments.base import ParamError, parse

    if name not in registry:
        return _fail(f"unknown experiment {name!r}; known: {', '.join(registry)}")
    exp = registry[name]
    raw = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            return _fail(f"--set expects key=value, got {item!r}")
        raw[key.strip()] = value
    try:
        params, _ = parse(exp.params_cls, raw, strict=True)
    except ParamError as err:
        return _fail(str(err))
    result = exp.summary(exp.run(params))
    if as_json:
        print(json.dumps(result, default=_jsonable))
    else:
        for key, value in result.items():
            print(f"{key}: {json.dumps(value, default=_jsonable)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnkit", description="NN Playground experiments, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments and their parameters")
    run = sub.add_parser("run", help="run one experiment and print its result summary")
    run.add_argument("name")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter (repeatable); lists are comma-separated")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = parser.parse_args(argv)  # argparse itself exits 2 on bad usage

    from nnkit.experiments import registry

    if args.command == "list":
        return _list(registry())
    return _run(registry(), args.name, args.set, args.json)


if __name__ == "__main__":
    sys.exit(main())
