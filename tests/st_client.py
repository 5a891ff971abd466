"""A minimal Streamlit client over the app's websocket (/_stcore/stream), for the load test and the
load-balancer test: it opens pages, clicks buttons and follows `st.fragment(run_every=...)` polls as
the browser's frontend does, and keeps the elements each run drew.

One client costs a socket and a few MB in the measuring process, where a headless Chromium context
costs a renderer process and the CPU to draw every chart: on a 2-core machine browsers would take
the cores the server is being measured on. What it does not measure is the browser's own drawing.
It speaks Streamlit's protocol (BackMsg / ForwardMsg protobufs from the installed streamlit): a
measuring tool, never part of the app.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


class Session:
    """One visitor: one websocket, one Streamlit session on the server."""

    def __init__(self, url: str, headers: dict | None = None):
        split = urlsplit(url)
        self.ws_url = f"ws://{split.netloc}/_stcore/stream"
        self.headers = headers or {}
        self.page, self.query, self.page_hash = "", "", ""
        self.session_id = ""
        self.elements: list = []  # what the last full run drew, then what fragment runs redrew since
        self.exceptions: list[str] = []
        self._fragments: dict[str, asyncio.Task] = {}
        self._runs_done = 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> "Session":
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           additional_headers=self.headers, open_timeout=60)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        for task in self._fragments.values():
            task.cancel()
        self._reader.cancel()
        await self.ws.close()

    # --- what the visitor does ---

    async def open(self, page: str, query: str = "", timeout: float = 120) -> float:
        """Go to a page (as a link does); seconds until the server finished drawing it."""
        self.page, self.query = page, query
        return await self._rerun(timeout=timeout)

    async def click(self, key: str, timeout: float = 120) -> float:
        """Click the button with this key; seconds until the run it started finished."""
        ids = [e.button.id for kind, e in self.elements if kind == "button" and e.button.id.endswith(f"-{key}")]
        if not ids:
            raise LookupError(f"no button {key!r} on {self.page}")
        return await self._rerun(trigger=ids[-1], timeout=timeout)

    async def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until `predicate(self)` holds after some run (fragment polls included)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    return predicate(self)
        return True

    def texts(self, kind: str) -> list[str]:
        """The bodies of the elements of one kind (alert, markdown, ...) drawn so far in this run."""
        return [getattr(e, kind).body for k, e in self.elements if k == kind]

    def metrics(self) -> dict[str, str]:
        return {e.metric.label: e.metric.body for k, e in self.elements if k == "metric"}

    # --- the protocol ---

    def _message(self, trigger: str = "", fragment_id: str = "") -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = self.page if not fragment_id else ""
        state.page_script_hash = self.page_hash if fragment_id else ""
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        state.widget_states.SetInParent()
        if trigger:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = trigger, True
        return msg.SerializeToString()

    async def _rerun(self, trigger: str = "", timeout: float = 120) -> float:
        start = time.perf_counter()
        before = self._runs_done
        await self.ws.send(self._message(trigger))
        if not await self.wait_for(lambda s: s._runs_done > before, timeout):
            raise TimeoutError(f"{self.page}: no finished run within {timeout} s")
        return time.perf_counter() - start

    async def _read(self) -> None:
        drawing: list = []  # what the run in progress draws
        registered: set[str] = set()  # fragments with run_every that the run in progress drew
        async for data in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # a run starts, a full one or a fragment's (both send it)
                drawing, registered = [], set()
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                drawing.append((element.WhichOneof("type"), element))
                if element.WhichOneof("type") == "exception":
                    self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "auto_rerun":
                fid, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                registered.add(fid)
                if fid not in self._fragments:
                    self._fragments[fid] = asyncio.create_task(self._poll(fid, every))
            elif kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    self._stop_polling(fid)
            elif kind == "script_finished":
                async with self._changed:
                    if msg.script_finished == FINISHED:  # a full run: its drawing replaces the page
                        self.elements = drawing
                        self._runs_done += 1
                        for fid in set(self._fragments) - registered:  # no longer drawn: no longer polled
                            self._stop_polling(fid)
                    elif msg.script_finished == FRAGMENT_FINISHED:  # redrew its part: later readings win
                        self.elements = self.elements + drawing
                    self._changed.notify_all()

    def _stop_polling(self, fragment_id: str) -> None:
        task = self._fragments.pop(fragment_id, None)
        if task:
            task.cancel()

    async def _poll(self, fragment_id: str, every: float) -> None:
        """What the frontend does for `st.fragment(run_every=...)`: ask for the fragment's rerun."""
        while True:
            await asyncio.sleep(every)
            await self.ws.send(self._message(fragment_id=fragment_id))
