"""Grounding: tying a capability record to its card.

Each evidence quote is located in the card text (exactly, else ignoring whitespace, case and Unicode
form), and every number the record states about the artifact must appear in one of its quotes.
"""

from decompose.grounding.align import CardIndex, align_quote, normalize
from decompose.grounding.check import Grounded, ground
from decompose.grounding.quantities import Quantity, quantities

__all__ = ["CardIndex", "Grounded", "Quantity", "align_quote", "ground", "normalize", "quantities"]
