"""Shared test helpers: open a page of the app under Streamlit's AppTest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
# Pages wait this long for a background job before showing its progress instead (ui.jobs.wait_s):
# tests read the results in the same run, except those that test the progress display itself.
os.environ.setdefault("NNKIT_JOB_WAIT_S", "600")
PAGES = ["home", "activations", "regression", "classification", "overfitting", "dropout", "gradients", "optimizers", "schedulers"]


def open_page(page: str = "home", lang: str = "en", query: dict | None = None, timeout: int = 120) -> AppTest:
    """The app as a fresh visitor sees `page`, with `lang` and `query` in the address bar."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    # The sidebar's settings are read on the visitor's first run; the page's own after the switch,
    # since a page switch clears the query string (as it does in a browser).
    at.query_params.update({"lang": lang, **{k: v for k, v in (query or {}).items() if k in ("lang", "seed")}})
    at.run()
    if page != "home":
        at.switch_page(f"pages/{page}.py")
        at.query_params.update({k: v for k, v in (query or {}).items() if k not in ("lang", "seed")})
        at.run()
    return at


@pytest.fixture(scope="session")
def digits():
    """The bundled 8x8 digits, loaded once for the whole run (read only)."""
    from nnkit.datasets.images import load

    return load("digits")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread per operation, as a 2-core server runs (nnkit.device.configure_threads): the
    tensors here are tiny, and on a busy 2-core machine two threads per operation stall badly."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def use_navigation_mode() -> None:
    """See _navigation_mode; also used by the benchmarks, which open pages outside pytest."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


@pytest.fixture(autouse=True)
def _navigation_mode():
    """Run every AppTest run through app.py's st.navigation, as a served app does.

    AppTest forgets before each run that st.navigation is in use, and with a `pages/` folder it
    then runs a switched-to page file alone (Streamlit's legacy mode), without app.py's sidebar.
    The app leaves that mode by itself (ui.page._through_router), but only through a rerun that
    loses the sidebar's widget state in AppTest; a served app meets the mode once per process,
    on a fresh session with no state to lose.
    """
    original = PagesManager.__init__
    use_navigation_mode()
    yield
    PagesManager.__init__ = original


def setting(at: AppTest, params_cls: type, name: str):
    """The AppTest widget of one experiment setting, found by its page-scoped key (ui.params.key)."""
    from nnkit.experiments.base import specs
    from ui.params import key

    _, spec = specs(params_cls)[name]
    kind = {"choice": "selectbox", "multi": "multiselect", "floats": "text_input", "bool": "toggle"}.get(
        spec.kind, "number_input" if spec.log else "slider")
    return getattr(at, kind)(key=key(params_cls, name))


def switch(at: AppTest, page: str) -> AppTest:
    """Go to `page` as a click in the sidebar does: the address loses the previous page's query."""
    at.query_params.clear()
    at.switch_page(f"pages/{page}.py")
    return at.run()
