"""Chinese texts of the Overfitting page's validation (model selection, K-fold) and augmentation sections (see ui/overfitting/validation.py)."""

STRINGS = {
}
