"""Home: what the playground is, and one line per page on what it teaches."""

import streamlit as st

from ui.i18n import t
from ui.page import header

header("home")
st.subheader(t("home.pages"))
for page, icon in [("activations", ":material/show_chart:"), ("regression", ":material/trending_up:"),
                   ("classification", ":material/grid_view:"), ("overfitting", ":material/stacked_line_chart:"),
                   ("dropout", ":material/blur_on:"), ("gradients", ":material/gradient:"),
                   ("optimizers", ":material/route:"), ("schedulers", ":material/timeline:")]:
    st.page_link(f"pages/{page}.py", label=t(f"nav.{page}"), icon=icon)
    st.caption(t(f"home.{page}"))
st.subheader(t("home.how"))
st.markdown(t("home.how.body"))
