"""NN Playground's server: the app (app.py), warming up in the background as the server starts.

`streamlit run serve.py` (what `make run` and the Dockerfile do) finds the `st.App` below and serves
app.py with it; its lifespan starts ui.warmup (torch, the default dataset, the training loop) the
moment the server starts, instead of on a visitor's click.
`streamlit run app.py` still serves the same app, warming up from its first visitor's run.
"""

from contextlib import asynccontextmanager

import streamlit as st

from ui import warmup


@asynccontextmanager
async def lifespan(_app):
    warmup.start()  # returns at once: the server answers while torch loads in the background
    yield


app = st.App("app.py", lifespan=lifespan)
