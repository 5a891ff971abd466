"""nnkit: the PyTorch backend of NN Playground.

Pure PyTorch + NumPy: datasets, models, the one training loop (`fit`), the experiments and their
code export, device choice. It never imports streamlit, prints or draws, so it works the same from
the app, a notebook, the CLI (`python -m nnkit`) and the tests.

Importing the package is cheap: torch is imported by the submodules that need it, so the app's
home page can render before torch has loaded.
"""

__version__ = "0.1.0"
