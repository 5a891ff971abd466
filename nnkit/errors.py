"""The one shape of every error a learner may cause: an English sentence for the CLI and logs,
plus a `code` and `details` from which a page says the same thing in the learner's language."""

from __future__ import annotations


class CodedError(ValueError):
    codes: tuple[str, ...] = ()  # the codes a subclass may raise; each has a translated message
    # details that repeat what a visitor typed, linked or uploaded (a column name, a cell, a layer name):
    # a page shows them as literal text, never as Markdown
    outside: tuple[str, ...] = ()

    def __init__(self, code: str, message: str, **details):
        assert not self.codes or code in self.codes, code
        super().__init__(message)
        self.code, self.details = code, details
