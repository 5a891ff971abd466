"""A canvas to draw a digit on: white ink on black, mouse, pen or finger.

Built as an inline Streamlit Components v2 component (HTML, CSS and JS in this file: no build
step, no network, no external script). After each stroke the browser shrinks the drawing to
RES x RES grey levels (area average) and sends them to Python as the component's "drawing" state,
which reruns the page, so predictions follow the learner's pen. A small button inside the canvas
clears it (and the state).

In the browser the component lives in an open shadow root under
`[data-testid="stBidiComponentIsolated"]`; the canvas is `canvas.nnp-canvas` and the button
`button.nnp-clear` (Playwright's CSS selectors pierce open shadow roots).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.i18n import t

RES = 56  # side of the grid sent to Python: 2x MNIST's 28, enough for to_mnist's 20 px digit

_HTML = """
<div class="nnp-wrap">
  <canvas class="nnp-canvas" role="img"></canvas>
  <div class="nnp-hint" aria-hidden="true"></div>
  <button type="button" class="nnp-clear"></button>
</div>
"""

_CSS = """
.nnp-wrap {
  position: relative;
  display: inline-block;
  max-width: 100%;
  line-height: 0;
}
.nnp-canvas {
  display: block;
  max-width: 100%;
  height: auto;
  aspect-ratio: 1 / 1;
  background: #000;
  border: 1px solid var(--st-border-color, #888);
  border-radius: var(--st-base-radius, 0.5rem);
  touch-action: none;  /* the finger draws instead of scrolling the page */
  cursor: crosshair;
  user-select: none;
  -webkit-user-select: none;
}
.nnp-hint {
  position: absolute;
  inset: 0;
  display: flex;
  align-items: center;
  justify-content: center;
  padding: 1rem;
  text-align: center;
  line-height: 1.4;
  color: #9a9a9a;
  font-family: var(--st-font, sans-serif);
  font-size: 0.9rem;
  pointer-events: none;
}
.nnp-hint.nnp-hidden { display: none; }
.nnp-clear {
  position: absolute;
  top: 0.4rem;
  right: 0.4rem;
  line-height: 1.2;
  padding: 0.2rem 0.6rem;
  font-family: var(--st-font, sans-serif);
  font-size: 0.8rem;
  color: #fff;
  background: rgba(255, 255, 255, 0.15);
  border: 1px solid rgba(255, 255, 255, 0.45);
  border-radius: var(--st-button-radius, 0.4rem);
  cursor: pointer;
}
.nnp-clear:hover, .nnp-clear:focus-visible { background: rgba(255, 255, 255, 0.3); }
"""

_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const canvas = parentElement.querySelector(".nnp-canvas");
  const hint = parentElement.querySelector(".nnp-hint");
  const clear = parentElement.querySelector(".nnp-clear");
  if (!canvas || !clear) return;
  const size = data.size, res = data.res;

  clear.textContent = data.labels.clear;
  hint.textContent = data.labels.hint;
  canvas.setAttribute("aria-label", data.labels.hint);
  canvas.style.width = size + "px";

  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const blank = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.ink = "0";
    hint.classList.remove("nnp-hidden");
  };
  // This function runs again when the data changes (language, has_drawing); the canvas element
  // and its drawing survive that, so set it up only once.
  if (canvas.dataset.ready !== "1" || canvas.width !== size) {
    canvas.width = size;
    canvas.height = size;
    blank();
    canvas.dataset.ready = "1";
    // A fresh canvas while Python still holds a drawing (the element was rebuilt): forget it.
    if (data.has_drawing) setStateValue("drawing", null);
  }

  const pen = () => {
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = data.stroke;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  };
  const point = (event) => {
    const rect = canvas.getBoundingClientRect();  // border box: take the border off
    return [(event.clientX - rect.left - canvas.clientLeft) * canvas.width / canvas.clientWidth,
            (event.clientY - rect.top - canvas.clientTop) * canvas.height / canvas.clientHeight];
  };

  // The drawing as res x res grey levels 0..255, each the mean of its block of canvas pixels.
  const send = () => {
    const w = canvas.width, h = canvas.height;
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const sum = new Float64Array(res * res), count = new Float64Array(res * res);
    for (let y = 0; y < h; y++) {
      const row = Math.floor(y * res / h) * res;
      for (let x = 0; x < w; x++) {
        const cell = row + Math.floor(x * res / w);
        sum[cell] += rgba[(y * w + x) * 4];
        count[cell] += 1;
      }
    }
    const pixels = new Array(res * res);
    for (let i = 0; i < res * res; i++) pixels[i] = Math.round(sum[i] / count[i]);
    setStateValue("drawing", { size: res, pixels: pixels });
  };

  let drawing = false, last = null;
  const down = (event) => {
    if (event.button !== undefined && event.button > 0) return;
    event.preventDefault();
    canvas.setPointerCapture?.(event.pointerId);
    drawing = true;
    last = point(event);
    pen();
    ctx.beginPath();
    ctx.arc(last[0], last[1], data.stroke / 2, 0, 2 * Math.PI);
    ctx.fill();
    canvas.dataset.ink = "1";
    hint.classList.add("nnp-hidden");
  };
  const move = (event) => {
    if (!drawing) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    pen();
    for (const e of (events.length ? events : [event])) {
      const p = point(e);
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      last = p;
    }
  };
  const up = (event) => {
    if (!drawing) return;
    drawing = false;
    canvas.releasePointerCapture?.(event.pointerId);
    send();
  };
  const wipe = (event) => {
    event.preventDefault();
    blank();
    setStateValue("drawing", null);
  };

  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  clear.addEventListener("click", wipe);
  return () => {
    canvas.removeEventListener("pointerdown", down);
    canvas.removeEventListener("pointermove", move);
    canvas.removeEventListener("pointerup", up);
    canvas.removeEventListener("pointercancel", up);
    clear.removeEventListener("click", wipe);
  };
}
"""

_component = st.components.v2.component("nnp_draw_digit", html=_HTML, css=_CSS, js=_JS)


def _on_change() -> None:
    """The state must have a callback to exist; the page's rerun does the work."""


def decode(value) -> np.ndarray | None:
    """The component's "drawing" state as float32 (n, n) in [0, 1], white ink on black.

    None for no drawing, a blank one, or anything malformed (the value comes from the browser).
    """
    if not isinstance(value, dict):
        return None
    size, pixels = value.get("size"), value.get("pixels")
    if not isinstance(size, int) or isinstance(size, bool) or not 8 <= size <= 256:
        return None
    if not isinstance(pixels, list) or len(pixels) != size * size:
        return None
    if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in pixels):
        return None
    array = np.asarray(pixels, dtype=np.float64)
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 255:
        return None
    if array.max() == 0:
        return None
    return (array.reshape(size, size) / 255.0).astype(np.float32)


def draw_digit(key: str, size: int = 280, stroke: int = 20) -> np.ndarray | None:
    """Show a drawing canvas; return what is drawn on it, or None while it is empty.

    The result is float32 (RES, RES) = (56, 56) in [0, 1], white ink on black, ready for
    nnkit.preprocess.to_mnist / to_digits8. `size` is the canvas side in CSS pixels and `stroke`
    the pen width in those pixels. The learner's drawing survives reruns while the component is
    shown with the same `key`.
    """
    current = st.session_state.get(key)
    has_drawing = isinstance(current, dict) and bool(current.get("drawing"))
    data = {
        "size": int(size),
        "stroke": int(stroke),
        "res": RES,
        "has_drawing": has_drawing,
        "labels": {"clear": t("canvas.clear"), "hint": t("canvas.hint")},
    }
    result = _component(key=key, data=data, default={"drawing": None}, width="content",
                        on_drawing_change=_on_change)
    return decode(result.get("drawing"))
