"""serve.py with a probe, for bench_memory.py only: what the server process holds, on request.

`streamlit run bench/memory_probe.py` serves ../app.py exactly as serve.py does, plus a thread that
waits for the file $NNKIT_PROBE (written by the bench) and answers in $NNKIT_PROBE.json: resident
memory, sessions (connected and kept for reconnection), Streamlit's in-memory media and uploaded
files, live objects of ours and torch tensors, and (when the file says "trim") the memory glibc
gives back on malloc_trim.
It reads Streamlit's private fields: a measuring tool, never part of the app.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ui import warmup  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def snapshot(trim: bool) -> dict:
    from streamlit import runtime

    import torch

    rt = runtime.get_instance()
    manager = rt._session_mgr
    media = rt.media_file_mgr
    files = getattr(media._storage, "_files_by_id", {})
    uploads = rt.uploaded_file_mgr.file_storage
    gc.collect()
    objects = gc.get_objects()
    tensors = [o for o in objects if isinstance(o, torch.Tensor)]
    kinds: dict[str, int] = {}
    for o in objects:
        name = type(o).__name__
        if name in ("AppSession", "TrainingRun", "TrainingJob", "ScriptRunner", "SessionState", "Thread"):
            kinds[name] = kinds.get(name, 0) + 1
    out = {"rss_mb": rss_mb(), "active_sessions": len(manager._active_session_info_by_id),
           "stored_sessions": len(manager._session_storage._cache._data),
           "media_files": len(files), "media_mb": sum(len(f.content) for f in files.values()) / 2**20,
           "media_sessions": len(media._files_by_session_and_coord),
           "uploaded_files": sum(len(v) for v in uploads.values()), "objects": kinds,
           "threads": [t.name for t in threading.enumerate()],
           "tensors": len(tensors), "tensor_mb": sum(t.element_size() * t.nelement() for t in tensors) / 2**20}
    if trim:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        out["rss_after_malloc_trim_mb"] = rss_mb()
    return out


def probe(trigger: Path) -> None:
    while True:
        if trigger.exists():
            trim = trigger.read_text().strip() == "trim"
            trigger.unlink()
            try:
                answer = snapshot(trim)
            except Exception as err:  # noqa: BLE001 - report it to the bench
                answer = {"error": repr(err)}
            Path(f"{trigger}.json").write_text(json.dumps(answer))
        time.sleep(0.2)


@asynccontextmanager
async def lifespan(_app):
    warmup.start()
    if os.environ.get("NNKIT_PROBE"):
        threading.Thread(target=probe, args=(Path(os.environ["NNKIT_PROBE"]),), name="memory-probe",
                         daemon=True).start()
    yield


app = st.App("../app.py", lifespan=lifespan)
