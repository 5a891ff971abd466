"""Every text a learner reads, in English and Chinese. `t(key)` looks it up in the current language.

The strings live in ui/locales/{en,zh}.py, never in page code; tests/test_i18n.py fails when a key
is missing in either language or when code asks for a key that exists in neither.
"""

from __future__ import annotations

import re
import string

import streamlit as st

from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"


def current() -> str:
    lang = st.session_state.get("lang", DEFAULT)
    return lang if lang in STRINGS else DEFAULT


def t(key: str, lang: str | None = None, **values) -> str:
    """The text for `key` in `lang` (default: the current language), `{name}` fields filled in."""
    lang = lang or current()
    text = STRINGS[lang].get(key) or STRINGS[DEFAULT].get(key, key)
    if not values:
        return text
    return fill_zh(text, values) if lang == "zh" else text.format(**values)


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def fill_zh(text: str, values: dict) -> str:
    """`text.format(**values)`, where a space the Chinese text puts beside a slot to set a Latin name
    apart ("{name} 走的": "SGD 走的") goes when the value is Chinese too ("动量法走的", not "动量法 走的")."""
    formatter, out = string.Formatter(), []
    for literal, field, spec, conversion in formatter.parse(text):
        if out and literal.startswith(" ") and _CJK.match(literal[1:2]) and _CJK.match(out[-1][-1:]):
            literal = literal[1:]  # the value before it ended in Chinese
        out.append(literal)
        if field is None:
            continue
        value, _ = formatter.get_field(field, (), values)
        value = formatter.format_field(formatter.convert_field(value, conversion), spec or "")
        if value[:1] and _CJK.match(value[0]) and out[-1].endswith(" ") and _CJK.match(out[-1][-2:-1]):
            out[-1] = out[-1][:-1]  # the text before it ends in Chinese
        out.append(value)
    return "".join(out)


def has(key: str) -> bool:
    return key in STRINGS[DEFAULT]
