"""Translations: one package per language (`en`, `zh`), split by page into files with the same
names and the same keys (tests/test_i18n.py checks)."""


def merge(*tables: dict) -> dict:
    """One language's tables as one; a key defined twice is a mistake, not an override."""
    merged = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            raise ValueError(f"translation keys defined twice: {sorted(twice)}")
        merged.update(table)
    return merged
