"""What the benchmarks share: a median timer, the result file, the server's thread setting, and a
fresh `streamlit run` server with headless Chromium for the browser benchmarks."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def median_time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def server_threads() -> int:
    """Measure under the thread setting the app's server uses (nnkit.device.configure_threads)."""
    from nnkit.device import configure_threads

    return configure_threads()


def save(name: str, results: dict) -> None:
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / f"{name}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


@contextmanager
def served(entry: str = "app.py", port: int = 0, env: dict | None = None, prefix: tuple[str, ...] = ()):
    """A fresh server (`streamlit run entry`) on 127.0.0.1: yields (url, process, log path), the log
    holding the server's output. port=0 picks a free one; `prefix` wraps the command (`taskset -c 0,1`)."""
    from test_browser import free_port, wait_healthy

    port = port or free_port()
    log = Path(tempfile.mkstemp(prefix="nnkit-server-", suffix=".log")[1])
    with log.open("w") as out:
        proc = subprocess.Popen([*prefix, sys.executable, "-m", "streamlit", "run", entry, "--server.headless", "true",
                                 "--server.port", str(port), "--server.address", "127.0.0.1",
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=120)
        yield url, proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.unlink(missing_ok=True)


def need_chromium() -> None:
    """Exit quietly (status 0) where there is no chromium: `make bench` still runs the rest."""
    import shutil

    if not shutil.which("chromium"):
        print("skipped: needs Debian's chromium (sudo apt-get install chromium)")
        sys.exit(0)


@contextmanager
def chromium():
    """Headless Chromium, as the browser tests launch it."""
    import shutil

    from playwright.sync_api import sync_playwright

    from test_browser import CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
