"""Showing text that came from outside (a link, a file name, a file's content) as text.

Streamlit renders most strings as Markdown, so a value from a link such as
`[log in again](https://evil.example)` or `![x](https://tracker.example/x.png)` would become a live
link or a remote image inside the app's own message. `literal` turns any such value into a Markdown
code span: shown verbatim, never interpreted, and cut to a readable length.
"""

from __future__ import annotations

import re

from nnkit.errors import CodedError

MAX_SHOWN = 80  # characters of an outside value shown in a message; the rest is cut with "…"


def literal(value: object, limit: int = MAX_SHOWN) -> str:
    """`value` as a Markdown code span that renders exactly its characters (at most `limit` of them)."""
    text = str(value)
    # a code span cannot hold a line break or control characters: show them as escapes instead
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    if len(text) > limit:
        text = text[:limit] + "…"
    # CommonMark: a span opened by N backticks ends at the next run of exactly N, so use one more
    # than the longest run inside; pad with spaces when the text starts or ends with a backtick
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def message(prefix: str, err: CodedError) -> str:
    """The translated message `<prefix>.<code>` for a CodedError, its outside details as literal text."""
    from ui.i18n import t

    details = {k: literal(v, limit=300) if k in err.outside else v for k, v in err.details.items()}
    return t(f"{prefix}.{err.code}", **details)
