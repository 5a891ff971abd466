"""Chinese texts, one file per page (and one for what every page shares). Each is a ChineseText:
whoever formats it (ui.i18n.t, a test) fills it the Chinese way."""

from ui.locales import ChineseText, merge
from ui.locales.zh import (activations, classification, common, dropout, gradients, optimizers, optimizers_convexity,
                           optimizers_network, overfitting, overfitting_regularization, overfitting_validation,
                           regression, schedulers, schedulers_training)

STRINGS = {key: ChineseText(text) for key, text in merge(
    common.STRINGS, activations.STRINGS, regression.STRINGS, classification.STRINGS, overfitting.STRINGS,
    overfitting_regularization.STRINGS, overfitting_validation.STRINGS, dropout.STRINGS, gradients.STRINGS,
    optimizers.STRINGS, optimizers_network.STRINGS, optimizers_convexity.STRINGS, schedulers.STRINGS,
    schedulers_training.STRINGS).items()}
