"""Speed of the Activations page, as ratios against references run side by side in this process.

1. A warm rerun of the page (training cached), against a rerun of the home page (the floor:
   Streamlit's own cost of a run with the sidebar). Target: under 0.3 s.
2. The non-linearity demo on XOR and moons through nnkit's `fit`, against a bare textbook loop
   of the same model and steps. Target: >= 97 % accuracy in under 2 s.
3. The home page in a real browser: seconds from the server's health check to the title, and
   to the sidebar's device line (which needs torch). Target: title within 3 s, before torch.

Writes bench/results/activations.json and prints a table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace

from common import ROOT, median_time, save, server_threads


def page_reruns() -> dict:
    from conftest import open_page, use_navigation_mode

    use_navigation_mode()
    home = open_page("home")
    activations = open_page("activations")
    home_s = median_time(home.run, 15)
    page_s = median_time(activations.run, 15)
    return {"home_rerun_s": home_s, "activations_rerun_s": page_s, "ratio_vs_home": page_s / home_s,
            "target_s": 0.3, "ok": page_s < 0.3}


def bare_loop(p) -> float:
    """The same training as nnkit, written as the textbook loop: the reference for `fit`."""
    import torch
    from torch import nn

    from nnkit.datasets.toy2d import make_toy2d
    from nnkit.models import mlp

    x_np, y_np = make_toy2d(p.dataset, p.n_points, p.noise, p.seed)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    for activation in (p.activation, "none"):
        torch.manual_seed(p.seed)
        model = mlp(2, [p.hidden_size] * p.hidden_layers, 2, activation)
        opt = torch.optim.Adam(model.parameters(), lr=p.lr)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(p.epochs):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
    return 0.0


def training() -> dict:
    from nnkit.experiments.activations import ActivationsParams, train_nonlinearity

    out = {}
    for dataset in ("xor", "moons"):
        p = replace(ActivationsParams(), dataset=dataset)
        train_nonlinearity(p)  # warm-up
        nnkit_s = median_time(lambda: train_nonlinearity(p), 5)
        bare_s = median_time(lambda: bare_loop(p), 5)
        result = train_nonlinearity(p)
        acc = result["nets"]["with"].accuracy
        out[dataset] = {"accuracy": acc, "both_nets_s": nnkit_s, "bare_loop_s": bare_s,
                        "ratio_vs_bare": nnkit_s / bare_s, "ok": acc >= 0.97 and nnkit_s < 2.0}
    return out


def home_in_browser() -> dict:
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright

    from test_browser import CHROMIUM_ARGS, settle  # noqa: F401 (settle documents the wait we mirror)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page()
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.05)
            t0 = time.perf_counter()
            page.goto(url)
            page.get_by_role("heading", name="NN Playground").wait_for(timeout=60_000)
            title_s = time.perf_counter() - t0
            page.get_by_text("Device in use").wait_for(timeout=60_000)
            device_s = time.perf_counter() - t0
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"title_after_health_s": title_s, "device_line_after_health_s": device_s,
            "title_before_torch": title_s < device_s, "ok": title_s < 3.0}


if __name__ == "__main__":
    os.chdir(ROOT)
    threads = server_threads()
    results = {"reruns": page_reruns(), "training": training()}
    if shutil.which("chromium"):
        results["home_browser"] = home_in_browser()
    from nnkit.device import pick_device

    results["device"] = pick_device().name
    results["torch_threads"] = threads
    save("activations", results)
