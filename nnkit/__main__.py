"""Command line: `python -m nnkit list`,
`python -m nnkit run NAME [--guided ID] [--set k=v ...] [--json] [--save-run FILE]`,
`python -m nnkit data download NAME [NAME ...]` and `python -m nnkit data status`.

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
    from nnkit.experiments.base import bounds, specs, to_text

    for name, exp in registry.items():
        print(name)
        for pname, (default, spec) in specs(exp.params_cls).items():
            if spec.kind in ("choice", "multi"):
                allowed = "{" + ", ".join(spec.choices) + "}"
            elif spec.kind == "floats":
                allowed = f"{spec.min_len}-{spec.max_len} numbers in {bounds(spec)}"
            elif spec.kind == "bool":
                allowed = "{true, false}"
            else:
                allowed = bounds(spec)
            text = to_text(spec, default)  # as --set takes it: 1.5,-2,0.5 and 0.0001
            shown = ",".join(text) if isinstance(text, list) else text.replace(", ", ",")
            print(f"  {pname:<14} {spec.kind:<7} default={shown:<20} {allowed}")
        if exp.guided:
            print(f"  guided: {', '.join(g.id for g in exp.guided)}")
    return 0


def _run(registry, name: str, settings: list[str], as_json: bool, guided: str | None = None,
         save_run: str | None = None) -> int:
    from nnkit.experiments.base import ParamError, parse

    if name not in registry:
        return _fail(f"unknown experiment {name!r}; known: {', '.join(registry)}")
    exp = registry[name]
    raw = {}
    if guided is not None:
        known = {g.id: g for g in exp.guided}
        if guided not in known:
            return _fail(f"unknown guided experiment {guided!r} of {name}; known: {', '.join(known) or 'none'}")
        raw.update(known[guided].settings)  # --set may still change one of them
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            return _fail(f"--set expects key=value, got {item!r}")
        raw[key.strip()] = value
    try:
        params, _ = parse(exp.params_cls, raw, strict=True)
    except ParamError as err:
        return _fail(str(err))
    from nnkit.datasets.images import DatasetError

    try:
        outcome = exp.run(params)
    except (DatasetError, ParamError) as err:  # a combination of settings the run cannot take
        return _fail(str(err))
    result = exp.summary(outcome)
    if save_run is not None:
        record = exp.record(params, outcome) if exp.record is not None else None
        if record is None:
            return _fail(f"this run of {name} trains nothing, so there is no run to save")
        try:
            with open(save_run, "w", encoding="utf-8") as f:
                f.write(record.to_json())
        except OSError as err:
            return _fail(f"cannot write {save_run}: {err.strerror or err}")
    if as_json:
        print(json.dumps(result, default=_jsonable))
    else:
        for key, value in result.items():
            print(f"{key}: {json.dumps(value, default=_jsonable)}")
    return 0


DOWNLOAD_TIMEOUT_S = 30  # per network operation: torchvision's urlopen has no timeout of its own


def _data_download(names: list[str]) -> int:
    import socket

    from nnkit.datasets import images

    unknown = [name for name in names if name not in images.DATASETS]
    if unknown:
        return _fail(f"unknown dataset {unknown[0]!r}; known: {', '.join(images.DATASETS)}")
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # a silent network must not hang the command
    failed = False
    for name in dict.fromkeys(names):  # each once, in the order given
        try:
            data = images.prepare(name, download=True)
        except (images.DatasetError, OSError) as err:
            failed = True
            message = str(err) if isinstance(err, images.DatasetError) else f"{name}: cannot write the cache: {err}"
            print(f"nnkit: {' '.join(message.split())}", file=sys.stderr, flush=True)  # always one line
            continue
        where = "ships with scikit-learn" if name == "digits" else f"cached in {images.cache_path(name)}"
        height, width = data.shape
        print(f"{name}: {len(data.train_y):,} train + {len(data.test_y):,} test images, "
              f"{height}x{width}, {data.n_classes} classes; {where}", flush=True)
    return 2 if failed else 0


def _data_status() -> int:
    from nnkit.datasets import images

    root = images.data_dir()
    words = {"builtin": "ready (ships with scikit-learn)", "cached": "cached",
             "raw": "raw files present, not cached yet", "missing": "missing"}
    for name in images.DATASETS:
        state = images.state(name, root)
        if state == "builtin":
            where = ""
        elif state == "cached":
            where = f"  {images.cache_path(name, root)}"
        elif state == "raw":
            where = f"  {images.raw_folder(name, root)}"
        else:
            where = f"  {images.raw_folder(name, root)} (get it with: {images.download_command(name)})"
        print(f"{name:<14} {words[state]}{where}")
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
    run.add_argument("--guided", metavar="ID", help="start from a guided experiment's settings (see `list`)")
    run.add_argument("--save-run", metavar="FILE", help="write the run (settings, history, final numbers) as JSON")
    data = sub.add_parser("data", help="download, cache and inspect the image datasets")
    data_sub = data.add_subparsers(dest="action", required=True)
    download = data_sub.add_parser("download", help="download and cache datasets (digits needs none)")
    download.add_argument("names", nargs="+", metavar="NAME", help="digits, mnist or fashion-mnist")
    data_sub.add_parser("status", help="show which datasets are cached, raw or missing, and where")
    args = parser.parse_args(argv)  # argparse itself exits 2 on bad usage

    if args.command == "data":
        return _data_download(args.names) if args.action == "download" else _data_status()

    from nnkit.experiments import registry

    if args.command == "list":
        return _list(registry())
    return _run(registry(), args.name, args.set, args.json, args.guided, args.save_run)


if __name__ == "__main__":
    sys.exit(main())
