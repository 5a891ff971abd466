"""Translations: one package per language (`en`, `zh`), split by page into files with the same
names and the same keys (tests/test_i18n.py checks)."""

import re
import string

_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def merge(*tables: dict) -> dict:
    """One language's tables as one; a key defined twice is a mistake, not an override."""
    merged = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            raise ValueError(f"translation keys defined twice: {sorted(twice)}")
        merged.update(table)
    return merged


class ChineseText(str):
    """A Chinese text whose `format` fills its `{name}` slots as Chinese typesetting wants: a space the
    text puts beside a slot to set a Latin name apart ("{name} 走的": "SGD 走的") goes when the value is
    Chinese too ("动量法走的", not "动量法 走的"). Otherwise it is `str.format`."""

    def format(self, *args, **values) -> str:
        if args:
            return str.format(self, *args, **values)
        formatter, out = string.Formatter(), []
        for literal, field, spec, conversion in formatter.parse(self):
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
