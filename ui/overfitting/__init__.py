"""The Overfitting page's views, one module per group of sections (its shared charts in `common`).
pages/overfitting.py reads the settings, runs the section and hands its result to `VIEWS[section]`."""
