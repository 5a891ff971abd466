"""The Gradients page's views, one module per section (their shared charts in `common`).
pages/gradients.py reads the settings, runs the section and hands its result to `VIEWS[section]`."""
