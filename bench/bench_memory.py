"""What a server keeps in memory after its visitors leave.

A fresh server (serve.py by default), its resident memory (RSS, from /proc) measured:
1. after it started (and warmed up), and after a first visit to the home page;
2. after VISITORS visitors, each in a browser context of its own, opened every page by link
   (Activations, Regression, Classification, where they trained 2 epochs on the digits);
3. after they left: contexts closed, the server's session TTL passed (set short here with
   --ttl; 120 s by default) and one more short visit, whose disconnect makes Streamlit sweep
   its store of disconnected sessions;
4. the same for a second group of visitors: a server that keeps what visitors leave grows round
   after round, one that only keeps freed memory in its allocator stays level.

At each point bench/memory_probe.py (serve.py plus a probe thread) also reports what the server
holds: sessions, Streamlit's media and uploaded files, our objects, torch tensors; at the end, what
glibc's malloc_trim gives back.

Run by hand: python bench/bench_memory.py [--port 8634] [--visitors 5] [--ttl 10] [--rounds 2].
Writes bench/results/memory.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from common import chromium, need_chromium, save, served


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def probe(trigger: Path, trim: bool = False) -> dict:
    """Ask the server's probe thread what it holds now."""
    answer = Path(f"{trigger}.json")
    answer.unlink(missing_ok=True)
    trigger.write_text("trim" if trim else "look")
    deadline = time.monotonic() + 60
    while not answer.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.2)  # the probe writes the file in one call; let it finish
    return json.loads(answer.read_text())


def settle(page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=120_000)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_function('!document.querySelector(\'[data-testid="stSkeleton"]\')', timeout=120_000)


def visit_everything(browser, url: str) -> None:
    """One visitor: every page by link, and a 2-epoch training on the digits."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    for path in ("home", "activations", "regression"):
        page.goto(f"{url}/{path}")
        settle(page)
    page.goto(f"{url}/classification?epochs=2")
    settle(page)
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("button", name="Train 2 epochs", exact=True).click()
    page.get_by_role("button", name="Continue 2 more epochs", exact=True).wait_for(timeout=120_000)
    settle(page)
    context.close()


def short_visit(browser, url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/home")
    settle(page)
    context.close()


def main() -> None:
    need_chromium()
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--visitors", type=int, default=5)
    parser.add_argument("--ttl", type=int, default=10, help="server.disconnectedSessionTTL, seconds")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = {"visitors": args.visitors, "session_ttl_s": args.ttl, "load_average": os.getloadavg()}
    trigger = Path(tempfile.mkdtemp(prefix="nnkit-probe-")) / "probe"
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(args.ttl), "NNKIT_PROBE": str(trigger)}
    with served("bench/memory_probe.py", args.port, env) as (url, proc, log), chromium() as browser:
        deadline = time.monotonic() + 120
        while "warm-up finished" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        results["started"] = probe(trigger)
        short_visit(browser, url)
        results["first_page"] = probe(trigger)
        for round_ in range(1, args.rounds + 1):
            for _ in range(args.visitors):
                visit_everything(browser, url)
            results[f"round{round_}_visited"] = probe(trigger)
            time.sleep(args.ttl + 2)
            short_visit(browser, url)  # its disconnect sweeps the expired sessions out of the store
            time.sleep(args.ttl + 2)
            short_visit(browser, url)  # ... and this one the short visit's own session
            time.sleep(3)
            results[f"round{round_}_left"] = probe(trigger)
        results["trimmed"] = probe(trigger, trim=True)
        results["rss_from_outside_mb"] = rss_mb(proc.pid)
        results["server_log_tail"] = log.read_text()[-1500:]
    results["load_average_after"] = os.getloadavg()
    results["rss_mb"] = {k: v["rss_mb"] for k, v in results.items() if isinstance(v, dict) and "rss_mb" in v}
    save("memory", results)

if __name__ == "__main__":
    main()
