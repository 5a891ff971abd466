"""Every text a learner reads, in English and Chinese. `t(key)` looks it up in the current language.

The strings live in ui/locales/{en,zh}.py, never in page code; tests/test_i18n.py fails when a key
is missing in either language or when code asks for a key that exists in neither.
"""

from __future__ import annotations

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
    text = STRINGS[lang or current()].get(key) or STRINGS[DEFAULT].get(key, key)
    return text.format(**values) if values else str(text)  # zh texts fill the Chinese way (ChineseText)


def has(key: str) -> bool:
    return key in STRINGS[DEFAULT]
