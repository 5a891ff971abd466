"""The Dropout page's views, one module per group of sections (its own charts in `draw`).
pages/dropout.py reads the settings, runs the section and hands its result to `VIEWS[section]`."""
