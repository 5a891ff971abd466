"""English texts, one file per page (and one for what every page shares)."""

from ui.locales import merge
from ui.locales.en import activations, classification, common, overfitting, regression

STRINGS = merge(common.STRINGS, activations.STRINGS, regression.STRINGS, classification.STRINGS,
               overfitting.STRINGS)
