"""The drawing canvas (ui/canvas.py) under AppTest, and its decoding of what the browser sends.

AppTest runs no JavaScript: the component shows up as an UnknownElement. Its "drawing" state can
still be set the way the browser's setStateValue sets it, through the write-through value that
`at.session_state[key]` returns, and the next run then sees it. A real stroke in a browser is
checked in the browser tests.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ui.canvas import RES, decode

SCRIPT = """
import streamlit as st
from ui.canvas import draw_digit

got = draw_digit("pad", size=200, stroke=16)
st.session_state["got"] = got
st.write("none" if got is None else f"shape {got.shape}")
"""


def _stroke() -> list[int]:
    """What the browser sends for a vertical stroke down the middle of the canvas."""
    pixels = np.zeros((RES, RES), dtype=int)
    pixels[10:46, 26:30] = 255
    pixels[10:46, 25] = 128
    return pixels.ravel().tolist()


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_string(SCRIPT, default_timeout=30)
    app.run()
    return app


def test_empty_canvas_gives_none(at):
    assert not at.exception
    assert at.session_state["got"] is None
    assert at.markdown[0].value == "none"


def test_component_gets_its_settings_and_labels(at):
    (element,) = at.get("bidi_component")
    data = json.loads(element.proto.json)
    assert (data["size"], data["stroke"], data["res"], data["has_drawing"]) == (200, 16, RES, False)
    assert set(data["labels"]) == {"clear", "hint"}
    assert all(isinstance(text, str) and text for text in data["labels"].values())
    assert "<canvas" in element.proto.html_content and "setStateValue" in element.proto.js_content


def test_a_drawing_comes_back_as_an_array(at):
    at.session_state["pad"]["drawing"] = {"size": RES, "pixels": _stroke()}
    at.run()
    assert not at.exception
    got = at.session_state["got"]
    assert got.shape == (RES, RES) and got.dtype == np.float32
    assert got.max() == 1.0 and got.min() == 0.0
    assert got[:, 26:30].min() == 0.0 and got[20, 26:30].tolist() == [1.0] * 4
    assert got[20, 25] == pytest.approx(128 / 255)
    assert at.markdown[0].value == f"shape ({RES}, {RES})"
    # The component is told there is a drawing (it forgets it when its canvas was rebuilt blank).
    assert json.loads(at.get("bidi_component")[0].proto.json)["has_drawing"] is True
    # It stays across an unrelated rerun, and the clear button's None empties it.
    at.run()
    assert at.session_state["got"] is not None
    at.session_state["pad"]["drawing"] = None
    at.run()
    assert at.session_state["got"] is None


def test_the_drawing_feeds_the_digit_models(at):
    from nnkit.preprocess import to_digits8, to_mnist

    at.session_state["pad"]["drawing"] = {"size": RES, "pixels": _stroke()}
    at.run()
    got = at.session_state["got"]
    mnist = to_mnist(got)
    assert mnist.shape == (28, 28) and mnist.max() > 0.9
    assert to_digits8(got)[:, 3:5].sum() > to_digits8(got).sum() * 0.9


@pytest.mark.parametrize("value", [
    None,
    "drawing",
    {"size": RES, "pixels": [0] * (RES * RES)},  # blank (after a clear in the browser)
    {"size": RES, "pixels": [255] * 10},  # wrong length
    {"size": 4, "pixels": [255] * 16},  # too small
    {"size": 100_000, "pixels": []},  # absurd size
    {"size": True, "pixels": [255]},
    {"size": 8, "pixels": [256] * 64},  # out of range
    {"size": 8, "pixels": [-1] * 64},
    {"size": 8, "pixels": ["255"] * 64},
    {"size": 8, "pixels": [[255]] * 64},
    {"size": 8, "pixels": [float("nan")] * 64},
    {"size": 8},
])
def test_malformed_or_blank_states_decode_to_none(value):
    assert decode(value) is None


def test_decode_keeps_grey_levels():
    got = decode({"size": 8, "pixels": [0] * 63 + [51]})
    assert got.shape == (8, 8) and got[7, 7] == pytest.approx(0.2) and got.sum() == pytest.approx(0.2)
