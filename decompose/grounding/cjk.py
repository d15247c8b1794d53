"""Which characters belong to scripts written without reliable spaces between words (CJK)."""

from __future__ import annotations

_CJK_BLOCKS = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x30FF),  # CJK symbols and punctuation, Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Hangul Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def is_cjk(char: str) -> bool:
    """Whether `char` belongs to a script written without reliable spaces between words."""
    code = ord(char)
    if code < 0x1100:  # Latin, Greek, Cyrillic and the rest of the common case
        return False
    return any(low <= code <= high for low, high in _CJK_BLOCKS)
