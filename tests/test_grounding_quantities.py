"""Quantity extraction and matching: what counts as a stated number, and when two state the same amount."""

from __future__ import annotations

import pytest

from decompose.grounding import Quantity, quantities


def values(text: str) -> list[tuple[str, float, str]]:
    return [(q.raw, q.value, q.unit) for q in quantities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2560", [("2560", 2560, "")]),
        ("2,560", [("2,560", 2560, "")]),
        ("4B", [("4B", 4e9, "")]),
        ("4 billion", [("4 billion", 4e9, "")]),
        ("0.6B", [("0.6B", 6e8, "")]),
        ("23.5M", [("23.5M", 23.5e6, "")]),
        ("14M parameters", [("14M", 14e6, "")]),
        ("32K context", [("32K", 32_000, "")]),
        ("150K and 150,000", [("150K", 150_000, ""), ("150,000", 150_000, "")]),
        ("67.5 TB", [("67.5 TB", 67.5e12, "bytes")]),
        ("89% or 89.36 %", [("89%", 89, "%"), ("89.36 %", 89.36, "%")]),
        ("learning rate 2e-5", [("2e-5", 2e-5, "")]),
        ("약 1,400만 개", [("1,400만", 14e6, "")]),
        ("정확도89.36%", [("89.36%", 89.36, "%")]),
        ("40亿参数", [("40亿", 4e9, "")]),
    ],
)
def test_stated_numbers_are_read_with_their_multiplier_and_unit(text: str, expected: list) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "text-embedding-3-small",
        "Qwen3",
        "L2 normalised",
        "bge-m3",
        "v3",
        "gpt-4o",
        "MiniLM-L6",
        "SHA-256",
        "UTF-8",
        "Qwen3-Embedding-4B",
        "Llama-3.1-8B",
        "transformers>=4.51.0",
        "released in June 2025 (2024-06-05)",
        "the 3rd of 4o",
    ],
)
def test_digits_in_names_versions_and_dates_are_not_quantities(text: str) -> None:
    assert quantities(text) == []


def test_year_like_number_counts_when_it_counts_something() -> None:
    assert values("2048 tokens, 2048-dim, 2,048") == [("2048", 2048, ""), ("2048", 2048, ""), ("2,048", 2048, "")]
    assert values("sizes 32 to 2048") == [("32", 32, ""), ("2048", 2048, "")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32–2560", [32, 2560]),
        ("32-2560", [32, 2560]),
        ("32 to 2560", [32, 2560]),
        ("from 32 up to 2560", [32, 2560]),
        ("1–2B", [1e9, 2e9]),
        ("0.6B-8B", [6e8, 8e9]),
    ],
)
def test_both_ends_of_a_range_are_quantities(text: str, expected: list[float]) -> None:
    assert [q.value for q in quantities(text)] == expected


def test_left_end_of_a_percentage_range_is_a_percentage() -> None:
    assert [(q.value, q.unit) for q in quantities("10–20%")] == [(10, "%"), (20, "%")]


def one(text: str) -> Quantity:
    (quantity,) = quantities(text)
    return quantity


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2,560", "2560"),
        ("4 billion", "4B"),
        ("0.6B", "600M"),
        ("32K", "32,768"),
        ("1M", "1,048,576"),
        ("14M", "1,400만"),
        ("150K", "15만"),
        ("89%", "89.36%"),
        ("89.4%", "89.36%"),
        ("67 TB", "67.5 TB"),
        ("23.5M", "23,456,789"),
        ("2e-5", "0.00002"),
    ],
)
def test_same_amount_matches_both_ways(first: str, second: str) -> None:
    assert one(first).matches(one(second)) and one(second).matches(one(first))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("4096", "2560"),
        ("2500", "2560"),
        ("23.5M", "14M"),
        ("8B", "4B"),
        ("89.36", "89.36%"),
        ("10 GB", "10B"),
        ("2e-5", "3e-5"),
        ("89.5%", "89.36%"),
    ],
)
def test_different_amounts_or_families_do_not_match(first: str, second: str) -> None:
    assert not one(first).matches(one(second))


@pytest.mark.parametrize(
    ("stated", "quoted"),
    [
        ("2,560", "2560"),
        ("4B", "4 billion"),
        ("32K", "32,000"),
        ("67.5 TB", "67.5 terabytes"),
        ("14M", "14 million"),
        ("89%", "89.36%"),
        ("an 8-billion-parameter model", "8B"),
        ("close to 90%", "89.36%"),
        ("about 9 in 10", "9"),
    ],
)
def test_the_issues_examples_are_normalised_before_comparing(stated: str, quoted: str) -> None:
    assert quantities(stated)[0].matches(one(quoted))


def test_a_range_states_both_ends_and_each_must_be_backed() -> None:
    stated = quantities("any size in 32–2560")
    backed = quantities("from 32 to 2560")
    assert [any(s.matches(b) for b in backed) for s in stated] == [True, True]
    assert not any(quantities("32–4096")[1].matches(b) for b in backed)


def test_sizes_listed_with_slashes_are_each_a_quantity() -> None:
    assert [q.value for q in quantities("0.6B/4B/8B models")] == [6e8, 4e9, 8e9]
    assert quantities("Qwen3/4B") == []  # still a name


def test_unhedged_round_number_does_not_match_a_precise_one() -> None:
    assert not one("90%").matches(one("89.36%"))
