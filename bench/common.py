"""What the benchmarks share: a median timer, the result file, and the server's thread setting."""

from __future__ import annotations

import json
import statistics
import sys
import time
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
