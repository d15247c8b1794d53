"""Record ids: `<artifact>/<capability>`, readable and stable for the same names."""

from __future__ import annotations

import re


def slug(text: str) -> str:
    """Lower-case, words joined by '-'; keeps non-ASCII letters so Korean names stay readable."""
    words = re.findall(r"\w+(?:\.\w+)*", text.lower())
    return "-".join(words)[:80] or "item"


class IdAllocator:
    """Hands out `<artifact>/<capability>` ids, suffixed -2, -3 … when two names slug alike."""

    def __init__(self, artifact_name: str) -> None:
        self._prefix = slug(artifact_name)
        self._seen: dict[str, int] = {}

    def allocate(self, name: str) -> str:
        base = f"{self._prefix}/{slug(name)}"
        count = self._seen.get(base, 0) + 1
        self._seen[base] = count
        return base if count == 1 else f"{base}-{count}"
