"""Gradients: why depth multiplies local derivatives, the gradient health of a deep network layer
by layer, and the fixes (ReLU, a matching init, batch norm, residual connections, clipping)."""

from nnkit.experiments import gradients
from ui.gradients import chain, fixes, hand, health
from ui.sectioned import page

# each section's view: (params, run's result) -> draws it
VIEWS = {
    "by_hand": hand.show_hand,
    "chain": chain.show_chain,
    "health": health.show_health,
    "fixes": fixes.show_fixes,
}

page("grd", gradients, VIEWS, gradients.RUN_FINALS)
