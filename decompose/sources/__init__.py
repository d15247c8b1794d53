"""Turn a SOURCE (file, `-`, hub id or URL, GitHub URL, any http(s) URL) into a `Card`.

`load_card` is the one entry point; the modules split the work by concern: `refs` classifies the
string, `hub` and `web` fetch, `text` decodes and parses, `loader` assembles the Card.
"""

from decompose.sources.loader import load_card
from decompose.sources.text import MAX_CARD_BYTES

__all__ = ["MAX_CARD_BYTES", "load_card"]
