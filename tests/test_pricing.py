"""Cost: the user's prices, OpenAI's list prices, and unknown shown as unknown (never as 0)."""

from __future__ import annotations

import pytest

from decompose.errors import InputError
from decompose.pricing import LIST_PRICES_AS_OF, cost_text, price_for


def test_a_well_known_openai_model_costs_its_list_price() -> None:
    price = price_for("gpt-4o-mini", openai_endpoint=True)
    assert price is not None
    assert price.cost(1_000_000, 1_000_000) == pytest.approx(0.15 + 0.60)
    text = cost_text(price, 2_000_000, 500_000, model="gpt-4o-mini")
    assert text.startswith("cost $0.6000 ")
    assert LIST_PRICES_AS_OF in text


def test_user_prices_win_over_the_table_and_work_anywhere() -> None:
    price = price_for("qwen3:8b", openai_endpoint=False, price_in=1.0, price_out=3.0)
    assert price is not None and price.cost(500_000, 100_000) == pytest.approx(0.8)
    free = price_for("gpt-4o", openai_endpoint=True, price_in=0, price_out=0)
    assert free is not None and free.cost(10**9, 10**9) == 0


@pytest.mark.parametrize(
    ("model", "openai_endpoint"),
    [("my-finetune", True), ("gpt-4o-mini-2024-07-18", True), ("gpt-4o-mini", False)],
)
def test_unknown_prices_are_reported_as_unknown(model: str, openai_endpoint: bool) -> None:
    price = price_for(model, openai_endpoint=openai_endpoint)
    assert price is None
    text = cost_text(price, 1000, 1000, model=model)
    assert "cost unknown" in text and "--price-in" in text and "$0" not in text


def test_one_price_without_the_other_is_refused() -> None:
    with pytest.raises(InputError, match="both --price-in and --price-out"):
        price_for("gpt-4o", openai_endpoint=True, price_in=1.0)
