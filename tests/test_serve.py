"""The server warms up before its first visitor: `streamlit run serve.py` (make run, the Dockerfile)
loads torch, the default dataset and the training loop as it starts; `streamlit run app.py` does
so from its first run, in the background."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

from conftest import ROOT, open_page
from test_browser import free_port, wait_healthy

FINISHED = "warm-up finished in"


def test_serve_py_warms_up_before_anyone_visits(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        deadline = time.monotonic() + 240
        while FINISHED not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        text = log.read_text()
        assert FINISHED in text, text  # and nobody has opened a page yet
        assert "warm-up failed" not in text and "Traceback" not in text, text
        with urllib.request.urlopen(url, timeout=10) as page:  # the app itself is served
            assert page.status == 200 and b"<title>" in page.read()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_app_py_warms_up_from_its_first_run_without_waiting_for_it():
    from ui import warmup

    at = open_page("home")
    assert not at.exception
    assert at.title[0].value == "NN Playground"
    assert warmup.done.wait(timeout=240)  # started by app.py's run; finished in the background


def test_the_warm_up_draws_no_random_numbers():
    """It runs beside visitors (and tests) who seed torch's global generator and then draw."""
    import torch

    from ui import warmup

    torch.manual_seed(5)
    before = torch.get_rng_state()
    warmup._train_once()
    assert torch.equal(before, torch.get_rng_state())
