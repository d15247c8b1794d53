"""Everything grounding computes once per card, so checking many records against it stays cheap."""

from __future__ import annotations

import re
from functools import cached_property

from decompose.grounding.align import Aligner, Located
from decompose.grounding.attribution import Attributor
from decompose.grounding.layout import Layout
from decompose.grounding.methods import Method, stated_methods
from decompose.grounding.names import Subject, name_tokens


class CardIndex:
    """One card's text with its normalised form, layout, stated methods and attributors, built lazily."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._aligner = Aligner(text)
        self._attributors: dict[str, Attributor | None] = {}

    def locate(self, quote: str) -> Located:
        return self._aligner.locate(quote)

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.text)

    @cached_property
    def methods(self) -> set[Method]:
        return stated_methods(self.text)

    @cached_property
    def title(self) -> str | None:
        """The card's first level-1 heading: whom the card is about when no subject is given."""
        for heading in self.layout.headings:
            if heading.level == 1:
                return re.sub(r"[*_`]", "", self.text[heading.title.start : heading.title.end]).strip() or None
        return None

    def attributor(self, subject: str) -> Attributor | None:
        """Attribution for `subject`; None when the name has nothing to compare (no letters or digits)."""
        if subject not in self._attributors:
            usable = bool(name_tokens(subject))
            self._attributors[subject] = Attributor(self.text, self.layout, Subject(subject)) if usable else None
        return self._attributors[subject]
