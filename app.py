"""NN Playground: the router. Page config, navigation over pages/*.py and the shared sidebar.

torch is imported only after the page has been drawn (the device line comes last), so the home
page reaches the browser before torch has loaded; ui.warmup loads it meanwhile in the background
(already since the server started, when served through serve.py).
"""

import streamlit as st

from ui import sidebar, urlstate, warmup
from ui.i18n import t

warmup.start()
st.set_page_config(page_title="NN Playground", page_icon="🧠", layout="wide")

urlstate.begin_run()
sidebar.controls()

PAGES = [
    st.Page("pages/home.py", title=t("nav.home"), icon=":material/home:", url_path="home", default=True),
    st.Page("pages/activations.py", title=t("nav.activations"), icon=":material/show_chart:",
            url_path="activations"),
    st.Page("pages/regression.py", title=t("nav.regression"), icon=":material/trending_up:", url_path="regression"),
    st.Page("pages/classification.py", title=t("nav.classification"), icon=":material/grid_view:",
            url_path="classification"),
    st.Page("pages/overfitting.py", title=t("nav.overfitting"), icon=":material/stacked_line_chart:",
            url_path="overfitting"),
    st.Page("pages/dropout.py", title=t("nav.dropout"), icon=":material/blur_on:", url_path="dropout"),
    st.Page("pages/gradients.py", title=t("nav.gradients"), icon=":material/gradient:", url_path="gradients"),
    st.Page("pages/optimizers.py", title=t("nav.optimizers"), icon=":material/route:", url_path="optimizers"),
    st.Page("pages/schedulers.py", title=t("nav.schedulers"), icon=":material/timeline:", url_path="schedulers"),
]
page = st.navigation(PAGES)
device_slot = st.sidebar.empty()
page.run()
sidebar.device(device_slot)
urlstate.sync()
