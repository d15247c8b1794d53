"""decompose: turn an AI artifact's card into capability records checked against the card."""
