"""Translations: one dict per language with the same keys (tests/test_i18n.py checks)."""
