"""Grounding: tying a capability record to its card.

Each evidence quote is located in the card text (exactly, else normalised for whitespace, case,
Unicode form and Markdown markup, else approximately), attributed to the artifact the passage speaks
about, and every number the record states about its artifact must appear in a quote about it; a
method the card contradicts ("mean pooling" where it says last token) is flagged too.
"""

from decompose.grounding.align import Located, align_quote, normalize
from decompose.grounding.check import Claim, Grounded, ground
from decompose.grounding.index import CardIndex
from decompose.grounding.quantities import Quantity, quantities

__all__ = [
    "CardIndex",
    "Claim",
    "Grounded",
    "Located",
    "Quantity",
    "align_quote",
    "ground",
    "normalize",
    "quantities",
]
