"""View of the placement section: the training loop with scheduler.step() in its place, and the
rates a real loop used with the call right, before optimizer.step(), and the wrong number of times."""

from __future__ import annotations

import streamlit as st

from nnkit.schedules import CALLS
from ui import charts
from ui.i18n import t
from ui.params import choice_label
from ui.schedulers.curves import rows_of

LOOP = {  # the right loop, per epoch and per batch
    False: """for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    {call}  # {comment}""",
    True: """for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        scheduler.step()  # {comment}""",
}


def show_placement(p, result: dict) -> None:
    name, per_batch = result["scheduler"], result["per_batch"]
    call = "scheduler.step(val_loss)" if name == "plateau" else "scheduler.step()"
    st.markdown(t("sch.placement.right", scheduler=choice_label(name)))
    comment = t(f"sch.placement.comment.{'batch' if per_batch else 'plateau' if name == 'plateau' else 'epoch'}")
    st.code(LOOP[per_batch].format(call=call, comment=comment), language="python")
    calls = result["calls"]
    rows = [row for c in CALLS for row in rows_of(calls[c]["lrs"], result["steps_per_epoch"], t(f"sch.call.{c}"))]
    st.vega_lite_chart(spec=charts.schedules(rows, t("sch.epoch"), t("sch.lr")), width="stretch")
    st.caption(t("sch.placement.caption"))
    st.markdown(t(f"sch.placement.before.{'plateau' if name == 'plateau' else 'other'}"))
    if calls["before"]["warning"]:
        st.warning(t("sch.placement.warned"), icon="⚠️")
        st.code(calls["before"]["warning"], language=None, wrap_lines=True)  # torch's own words, whole
    st.markdown(t(f"sch.placement.count.{'plateau' if name == 'plateau' else 'batch' if per_batch else 'epoch'}",
                  batches=p.steps_per_epoch))
    for c in CALLS:
        if calls[c]["error"]:
            st.error(t("sch.placement.error", call=t(f"sch.call.{c}")))
            st.code(calls[c]["error"], language=None, wrap_lines=True)
