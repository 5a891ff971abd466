"""Views of the Optimizers page, one module per section."""
