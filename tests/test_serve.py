"""The server warms up before its first visitor: `streamlit run serve.py` (make run, the Dockerfile)
loads torch, the default dataset and the training loop as it starts; `streamlit run app.py` does
so from its first run, in the background."""

from __future__ import annotations

import time
import urllib.request

from conftest import open_page
from test_browser import streamlit_server

FINISHED = "warm-up finished in"


def test_serve_py_warms_up_before_anyone_visits(tmp_path):
    log = tmp_path / "server.log"
    with streamlit_server("serve.py", log) as url:
        deadline = time.monotonic() + 240
        while FINISHED not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        text = log.read_text()
        assert FINISHED in text, text  # and nobody has opened a page yet
        assert "warm-up failed" not in text and "Traceback" not in text, text
        with urllib.request.urlopen(url, timeout=10) as page:  # the app itself is served
            assert page.status == 200 and b"<title>" in page.read()


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
