"""Dropout: the units each training pass drops, train vs eval mode, keep vs drop probability, the
average of many thinned networks, and what dropout buys on held-out data."""

from nnkit.experiments import dropout
from ui.dropout import compare, inside, masks
from ui.sectioned import page

# each section's view: (params, run's result) -> draws it
VIEWS = {
    "compare_rates": compare.show_compare,
    "train_eval": inside.show_train_eval,
    "ensemble": inside.show_ensemble,
    "masks": masks.show_masks,
}

page("drp", dropout, VIEWS, dropout.RUN_FINALS)
