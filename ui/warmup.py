"""Warming the server up in the background, so the first visitor does not pay for it.

A fresh process pays 4-10 s before its first training (measured on 2 cores): importing torch
(2-6 s) and the lazy parts torch loads on the first optimizer step (1.5-4 s: the step's compile
guards import torch._dynamo), then the digits. `start` does all of it once, in a daemon thread,
through the same cached functions the pages call. serve.py starts it when the
server starts; app.py also calls it on every run (a no-op after the first), so that
`streamlit run app.py` warms up too, from its first visitor's run, without blocking that page.
"""

from __future__ import annotations

import threading
import time

from streamlit.logger import get_logger

_LOG = get_logger(__name__)  # Streamlit's handler and level: the line shows in the server's log
_LOCK = threading.Lock()
_THREAD: threading.Thread | None = None
done = threading.Event()  # set when the warm-up has finished, whether it succeeded or not


def start() -> None:
    """Start warming up in the background, once per process; returns at once."""
    global _THREAD
    with _LOCK:
        if _THREAD is None:
            _THREAD = threading.Thread(target=_warm_up, name="nnkit-warm-up", daemon=True)
            _THREAD.start()


def _warm_up() -> None:
    t0 = time.perf_counter()
    try:
        from nnkit.device import configure_threads  # imports torch

        # First of all: torch starts with a thread per core for every operation, and the first
        # visitors' jobs, each spreading over every core, slowed each other (and this warm-up)
        # down 2-3 times on 2 cores. Threads started from here on get their share of the cores.
        configure_threads()
        from nnkit.experiments.classification import ClassificationParams
        from ui import classifier, sidebar  # nnkit and the pages' helpers

        sidebar.device_choice()  # the device line's cached choice (it sets the same threads again)
        classifier.device_tensors(ClassificationParams())  # the default dataset and split, on the device
        _train_once()
        _LOG.info("warm-up finished in %.1f s: torch, the digits and the training loop are loaded",
                  time.perf_counter() - t0)
    except Exception:  # noqa: BLE001 - the pages still load everything themselves, only slower
        _LOG.warning("warm-up failed; the first visitors will wait for the loading", exc_info=True)
    finally:
        done.set()


def _train_once() -> None:
    """One tiny training through `fit` with each optimizer the pages use.

    It draws no random numbers (weights filled in, a seeded shuffle of its own): a visitor's run,
    or a test, that seeds torch's global generator is never disturbed by it."""
    import torch
    from torch import nn
    from torch.nn.utils import skip_init

    from nnkit.optim import make_optimizer
    from nnkit.train import fit

    model = nn.Sequential(skip_init(nn.Linear, 2, 4), nn.ReLU(), skip_init(nn.Linear, 4, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.1)
    data = (torch.zeros(8, 2), torch.zeros(8, dtype=torch.long))
    for name in ("adam", "sgd"):
        fit(model, nn.CrossEntropyLoss(), make_optimizer(name, model.parameters(), 0.01), data, epochs=1,
            batch_size=4, shuffle_seed=0)
