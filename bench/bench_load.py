"""A class on one server: how many learners one 2-core server holds.

For each class size N (ascending, stopping after the first N whose pages take over 3 s): a fresh
server (serve.py, pinned to two cores with `taskset -c 0,1` as a 2-core server would be), one
warm-up visitor (every page the class uses, one training), then N visitors arriving over --arrive
seconds, each a real Streamlit session over the websocket (tests/st_client.py says why not browsers):
- half of them train on the Classification page, each with its own settings (hidden units and
  learning rate), clicking Train again after a "busy, try again" answer (every --retry s);
- the others move between Home, Activations, Regression and Classification, one page every --think s,
  for --window s.
Reported per N: the server's RSS when idle, after the warm-up visitor, and with the N sessions
connected (and so the memory per session); the time each page took to be drawn (from the request to
the server's "finished": the browser's own drawing is not in it), median, 95th percentile and worst;
trainings completed, "busy" answers, and that every trainer's page showed the numbers of its own
settings at the epoch asked for (checked against the same training run here, after the servers are
gone: no cross-talk, no page whose epoch and numbers disagree);
the CPU the server used (per session and minute: the cost of a learner, whatever else ran), and the
load average of the machine (shared with other work) next to each number.

Run by hand: python bench/bench_load.py [--port 8671] [--sizes 4,8,16,32] [--window 60].
Bounded: at most max(--window, training) + a minute per N, loopback only. Writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import time
from pathlib import Path

from common import save, served
from st_client import Session

from ui.locales.en.classification import STRINGS as EN

PAGES = ("home", "activations", "regression", "classification")
LIMIT_S = 3.0  # a page that takes longer than this no longer feels like a page
BUSY = EN["cls.train.busy"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def cpu_s(pid: int) -> float:
    """CPU seconds the process has used (user + system): what the load costs, whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settings(i: int, epochs: int) -> dict:
    """Trainer i's own settings: results differ from every other trainer's."""
    return {"epochs": epochs, "hidden_size": 16 + 8 * (i % 60), "lr": (0.01, 0.02, 0.005)[i % 3]}


def query(s: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in s.items())


async def trainer(url: str, i: int, epochs: int, retry_s: float, deadline: float, out: dict) -> None:
    mine = settings(i, epochs)
    async with Session(url) as s:
        out["renders"].append(("classification", await s.open("classification", query(mine))))
        while time.monotonic() < deadline:
            await s.click("cls_train")
            if any(BUSY in text for text in s.texts("alert")):
                out["busy"] += 1
                await asyncio.sleep(retry_s)
                continue
            done = await s.wait_for(lambda s: s.metrics().get(EN["cls.epoch"]) == str(epochs),
                                    max(1.0, deadline - time.monotonic()))
            if done:
                metrics = s.metrics()
                out["trained"].append({"settings": mine, "epoch": metrics[EN["cls.epoch"]],
                                       "train_loss": metrics[EN["cls.train_loss"]],
                                       "val_acc": metrics[EN["cls.val_acc"]], "metrics": metrics,
                                       "progress": [e.progress.text for k, e in s.elements if k == "progress"]})
            break
        else:
            out["gave_up"] += 1
        out["exceptions"] += s.exceptions
        out["done"] += 1
        await out["leave"].wait()  # stay connected until the RSS with N sessions is taken


async def viewer(url: str, think_s: float, until: float, out: dict) -> None:
    async with Session(url) as s:
        while time.monotonic() < until:
            page = random.choice(PAGES)
            out["renders"].append((page, await s.open(page)))
            await asyncio.sleep(think_s * random.uniform(0.5, 1.5))
        out["exceptions"] += s.exceptions
        out["done"] += 1
        await out["leave"].wait()


async def warm_up(url: str, epochs: int) -> None:
    """One visitor first: lazy imports and shared datasets are the server's, not any session's."""
    async with Session(url) as s:
        for page in PAGES:
            await s.open(page)
        await s.open("classification", query(settings(999, epochs)))
        await s.click("cls_train")
        await s.wait_for(lambda s: s.metrics().get(EN["cls.epoch"]) == str(epochs), 120)


async def load(url: str, pid: int, n: int, args) -> dict:
    out = {"renders": [], "busy": 0, "trained": [], "gave_up": 0, "done": 0, "exceptions": [],
           "leave": asyncio.Event()}
    start, cpu_start = time.monotonic(), cpu_s(pid)
    until = start + args.window
    trainers = n // 2

    async def arrive(k: int):
        await asyncio.sleep(args.arrive * k / n)
        if k < trainers:
            await trainer(url, k, args.epochs, args.retry, start + args.max_seconds, out)
        else:
            await viewer(url, args.think, until, out)

    tasks = [asyncio.create_task(arrive(k)) for k in range(n)]
    while out["done"] < n and time.monotonic() < start + args.max_seconds + 30:
        await asyncio.sleep(0.5)
    seconds, used = time.monotonic() - start, cpu_s(pid) - cpu_start
    loaded = {"rss_mb": rss_mb(pid), "load_average": os.getloadavg(), "seconds": round(seconds, 1),
              # cores the server kept busy: under 2 while pages were slow means others had the cores
              "server_cores_used": round(used / seconds, 2),
              "server_cpu_s_per_session_minute": round(used / n / (seconds / 60), 2)}
    out["leave"].set()
    await asyncio.wait(tasks, timeout=30)
    times = sorted(t for _, t in out["renders"])
    return {"sessions": n, "trainers": trainers, "with_n_sessions": loaded,
            "renders": len(times), "render_s": {"median": round(statistics.median(times), 3),
                                                "p95": round(times[int(0.95 * (len(times) - 1))], 3),
                                                "max": round(times[-1], 3)},
            "slowest_pages": sorted(out["renders"], key=lambda r: -r[1])[:3],
            "trainings_completed": len(out["trained"]), "busy_answers": out["busy"], "gave_up": out["gave_up"],
            "exceptions": out["exceptions"], "trained": out["trained"]}


def one_size(n: int, args, env: dict | None = None) -> dict:
    prefix = ("taskset", "-c", args.cpus) if args.cpus and shutil.which("taskset") else ()
    with served("serve.py", args.port, env=env, prefix=prefix) as (url, proc, log):
        deadline = time.monotonic() + 120
        while "warm-up finished" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        idle = {"rss_mb": rss_mb(proc.pid), "load_average": os.getloadavg()}
        niceness = int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        asyncio.run(warm_up(url, args.epochs))
        warm = {"rss_mb": rss_mb(proc.pid), "load_average": os.getloadavg()}
        result = asyncio.run(load(url, proc.pid, n, args))
    result["idle"], result["after_warm_up_visitor"] = idle, warm
    result["server_niceness"] = niceness
    result["mb_per_session"] = round((result["with_n_sessions"]["rss_mb"] - warm["rss_mb"]) / n, 1)
    return result


def cross_talk(rounds: list[dict]) -> dict:
    """Every trainer's page against the same settings trained here: its own numbers, nobody else's.

    The page's epoch, training loss and validation accuracy are compared with the lone run's last
    epoch. A page that differs is placed: the epoch of the same training, run here for twice as many
    epochs, whose numbers it shows ("numbers_of_epoch"; None: numbers of no epoch of its own training)
    tells a page read between two epochs, or trained again, from cross-talk."""
    from dataclasses import replace

    from nnkit.experiments.classification import ClassificationParams, run

    def shown_of(entry: dict, epoch: int) -> dict:
        return {"epoch": str(epoch), "train_loss": f"{entry['train_loss']:.4f}", "val_acc": f"{entry['val_acc']:.2%}"}

    reference, wrong, checked = {}, [], 0
    for r in rounds:
        for shown in r["trained"]:
            key = query(shown["settings"])
            p = ClassificationParams(**shown["settings"])
            if key not in reference:
                reference[key] = shown_of(run(p)["run"].history[-1], p.epochs)
            checked += 1
            compared = {k: shown.get(k) for k in ("epoch", "train_loss", "val_acc")}
            if compared != reference[key]:
                longer = run(replace(p, epochs=2 * p.epochs))["run"].history
                numbers_of = next((i + 1 for i, e in enumerate(longer)
                                   if {**shown_of(e, i + 1), "epoch": compared["epoch"]} == compared), None)
                wrong.append({"settings": key, "shown": shown, "expected": reference[key],
                              "numbers_of_epoch": numbers_of})
    distinct = len({(v["train_loss"], v["val_acc"]) for v in reference.values()})
    return {"trainers_checked": checked, "distinct_settings": len(reference), "distinct_results": distinct,
            "not_their_own": wrong}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sizes", default="4,8,16,32")  # make bench runs it too: a few minutes a size
    parser.add_argument("--cpus", default="0,1", help="taskset's CPU list for the server ('' for none)")
    parser.add_argument("--epochs", type=int, default=30, help="long enough for trainings to overlap")
    parser.add_argument("--window", type=float, default=60, help="seconds the viewers browse")
    parser.add_argument("--max-seconds", type=float, default=180, help="the most a trainer keeps trying")
    parser.add_argument("--arrive", type=float, default=10, help="seconds over which the class arrives")
    parser.add_argument("--think", type=float, default=5, help="seconds a viewer spends on a page")
    parser.add_argument("--retry", type=float, default=3, help="seconds before Train again after 'busy'")
    parser.add_argument("--keep-going", action="store_true",
                        help="every size, even past the limit (on a machine others slow down)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per size (one round varies by 2-3x)")
    parser.add_argument("--compare-post-script-gc", action="store_true",
                        help="before each round, the same round on a server with Streamlit's default "
                             "runner.postScriptGC = true (a full gc.collect after every run, fragments' too), "
                             "the reference for .streamlit/config.toml's false")
    args = parser.parse_args()
    random.seed(0)
    rounds, reference = [], []
    for n in (int(v) for v in args.sizes.split(",")):
        for _ in range(args.repeat):
            if args.compare_post_script_gc:
                reference.append(one_size(n, args, env={"STREAMLIT_RUNNER_POST_SCRIPT_GC": "true"}))
                print_round("reference, postScriptGC = true", reference[-1])
            rounds.append(one_size(n, args))
            print_round("config.toml", rounds[-1])
        if worst_p95(rounds, n) > LIMIT_S and not args.keep_going:
            break
        report(rounds, reference, args, checked=False)  # what is measured so far survives an interrupted sweep
    report(rounds, reference, args, checked=True)


def print_round(server: str, r: dict) -> None:
    loaded = r["with_n_sessions"]
    print(f"N={r['sessions']} ({server}): render median {r['render_s']['median']} s, p95 {r['render_s']['p95']} s, "
          f"{r['mb_per_session']} MB/session, {loaded['rss_mb']:.0f} MB, "
          f"{loaded['server_cpu_s_per_session_minute']} CPU s/session/min, {loaded['server_cores_used']} cores, "
          f"load {tuple(round(v, 2) for v in loaded['load_average'])}", flush=True)


def worst_p95(rounds: list[dict], n: int) -> float:
    return max(r["render_s"]["p95"] for r in rounds if r["sessions"] == n)


def report(rounds: list[dict], reference: list[dict], args, checked: bool) -> None:
    sizes = sorted({r["sessions"] for r in rounds})
    answering = [n for n in sizes if worst_p95(rounds, n) <= LIMIT_S]
    compared = {}
    for n in sorted({r["sessions"] for r in reference}):
        mine, ref = [r for r in rounds if r["sessions"] == n], [r for r in reference if r["sessions"] == n]
        compared[n] = {what: {"config": [r["render_s"][what] for r in mine],
                              "reference": [r["render_s"][what] for r in ref],
                              "ratio_of_medians": round(statistics.median(r["render_s"][what] for r in mine)
                                                        / statistics.median(r["render_s"][what] for r in ref), 2)}
                       for what in ("median", "p95")}
        compared[n]["cpu_s_per_session_minute"] = {
            "config": [r["with_n_sessions"]["server_cpu_s_per_session_minute"] for r in mine],
            "reference": [r["with_n_sessions"]["server_cpu_s_per_session_minute"] for r in ref]}
        compared[n]["rss_mb"] = {"config": [r["with_n_sessions"]["rss_mb"] for r in mine],
                                 "reference": [r["with_n_sessions"]["rss_mb"] for r in ref]}
    save("load", {"cpus": args.cpus, "cores": os.cpu_count(), "epochs": args.epochs, "window_s": args.window,
                  "think_s": args.think, "limit_s": LIMIT_S, "rounds": rounds,
                  "cross_talk": cross_talk(rounds) if checked else "not checked yet",
                  "most_sessions_within_limit": max(answering, default=0),
                  "first_size_over_limit": next((n for n in sizes if worst_p95(rounds, n) > LIMIT_S), None),
                  "post_script_gc_reference": reference, "against_post_script_gc": compared})


if __name__ == "__main__":
    main()
