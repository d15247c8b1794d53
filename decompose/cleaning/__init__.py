"""Cleaning card text for the prompt, with a map back to the card as fetched, and chunking it."""

from decompose.cleaning.clean import VERSION, clean, clean_card
from decompose.cleaning.offsets import Edit, MappedText

__all__ = ["VERSION", "Edit", "MappedText", "clean", "clean_card"]
