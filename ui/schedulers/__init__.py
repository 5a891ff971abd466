"""Views of the Schedulers page's sections."""
