"""What the tokens cost: prices given by the user, or the list prices of well-known OpenAI models.

A cost is only ever shown for a known price. An unknown model (a local server, a fine-tune, a dated
snapshot whose price may differ from its alias) has no price, and its cost is reported as unknown,
never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from decompose.errors import InputError

LIST_PRICES_AS_OF = "2026-03"
OPENAI_LIST_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}
"""USD per million (input, output) tokens at OpenAI's standard tier, as its pricing page listed them
in March 2026 (cross-checked with dated public copies of platform.openai.com/docs/pricing). Cached
input and Batch API discounts are not applied, so a cost from this table is an upper estimate.
Model aliases only: dated snapshots were sometimes priced differently from their alias."""

PRICE_OPTIONS_HINT = "pass --price-in and --price-out (USD per million tokens)"


@dataclass(frozen=True)
class Price:
    """USD per million prompt and completion tokens, and where the numbers came from."""

    input_per_million: float
    output_per_million: float
    origin: str

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1_000_000

    def describe(self) -> str:
        rates = f"{_dollars(self.input_per_million)} in, {_dollars(self.output_per_million)} out per 1M tokens"
        return f"{rates}, {self.origin}"


def price_for(
    model: str, *, openai_endpoint: bool, price_in: float | None = None, price_out: float | None = None
) -> Price | None:
    """The user's prices if given (both or neither), else OpenAI's list price at OpenAI, else None."""
    if (price_in is None) != (price_out is None):
        raise InputError(f"give both --price-in and --price-out, or neither; {PRICE_OPTIONS_HINT}")
    if price_in is not None and price_out is not None:
        if price_in < 0 or price_out < 0:
            raise InputError(f"prices cannot be negative; {PRICE_OPTIONS_HINT}")
        return Price(price_in, price_out, "as given")
    listed = OPENAI_LIST_PRICES.get(model) if openai_endpoint else None
    if listed is None:
        return None
    return Price(*listed, origin=f"OpenAI list price of {model} as of {LIST_PRICES_AS_OF}")


def cost_text(price: Price | None, prompt_tokens: int, completion_tokens: int, *, model: str) -> str:
    """`$0.0123` with its price basis, or why the cost is unknown."""
    if price is None:
        return f"cost unknown (no price for model {model!r}; {PRICE_OPTIONS_HINT})"
    return f"cost ${price.cost(prompt_tokens, completion_tokens):,.4f} ({price.describe()})"


def _dollars(amount: float) -> str:
    """Cents as people write prices ($0.60), finer fractions kept ($0.075)."""
    return f"${amount:.2f}" if round(amount, 2) == amount else f"${amount:g}"
