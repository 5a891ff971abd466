"""English texts of the Overfitting page's regularization and early-stopping sections (see ui/overfitting/regularization.py)."""

STRINGS = {
}
