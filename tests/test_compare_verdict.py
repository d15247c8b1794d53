"""The headline and verdict sentences: built from the scores alone, the same scores giving the same words."""

from __future__ import annotations

from decompose.compare.model import COMPONENTS, Component, Scores, Side
from decompose.compare.verdict import headline, verdict


def side(name: str, rank: int | None, org: str = "org", **scores: float | None) -> Side:
    components = {
        key: Component(name=key, score=scores.get(key), inputs={}, reasons=[]) for key in COMPONENTS
    }
    return Side(
        id=f"{org}/{name}", name=name, kind="model", url=None, license=None, access=None, access_reason="",
        scores=Scores(rank=rank, rank_reason="", **components), capabilities=[], grounded=0, partial=0,
        ungrounded=0, grounded_share=None, records_model="m", prompt_version="p",
    )


def test_the_higher_rank_speaks_first_and_each_side_gets_its_leads() -> None:
    x = side("X", 58, adoption=0.2, quality=0.9, ecosystem=0.3, freshness=0.5)
    y = side("Y", 48, adoption=0.6, quality=0.4, ecosystem=0.7, freshness=0.52)
    assert headline(y, x) == "X ranks higher at 58/100 vs Y at 48/100."
    assert verdict(y, x) == (
        "X scores higher at 58/100 vs Y at 48/100. Y leads on adoption and ecosystem, "
        "while X is stronger on quality. They are level on freshness."
    )


def test_a_difference_under_the_margin_is_no_lead() -> None:
    x = side("X", 51, adoption=0.50, quality=0.50, ecosystem=0.50, freshness=0.50)
    y = side("Y", 50, adoption=0.46, quality=0.50, ecosystem=0.50, freshness=0.50)
    assert verdict(x, y) == "X scores higher at 51/100 vs Y at 50/100. No sub-score differs by 0.05 or more."


def test_a_tie_names_both_and_missing_sub_scores_are_said_to_be_na() -> None:
    x = side("X", 50, quality=0.5, ecosystem=0.9)
    y = side("Y", 50, quality=0.7, ecosystem=0.5, freshness=0.4)
    assert headline(x, y) == "X and Y rank level at 50/100."
    assert verdict(x, y) == (
        "X and Y tie at 50/100. Y leads on quality, while X is stronger on ecosystem. "
        "Adoption and freshness are n/a for X. Adoption is n/a for Y."
    )


def test_an_unranked_side_is_named_as_such() -> None:
    ranked, unranked = side("X", 40, quality=0.4), side("Y", None)
    assert headline(ranked, unranked) == "X ranks at 40/100; Y cannot be ranked (n/a)."
    assert verdict(unranked, ranked).startswith("X ranks at 40/100; Y cannot be ranked (n/a).")


def test_same_names_fall_back_to_ids() -> None:
    assert headline(side("Same", 60, "one"), side("Same", 40, "two")) == (
        "one/Same ranks higher at 60/100 vs two/Same at 40/100."
    )
