"""Attribution: a quote from a part of the card about another artifact does not back a claim about this one."""

from __future__ import annotations

import pytest

from decompose.grounding import ground
from tests.test_grounding import KOREAN_CARD, make_draft

CARD = """\
# Qwen3-Embedding-4B

## Overview

Qwen3-Embedding-4B outputs 2560-dimensional vectors and has 36 layers.
Qwen3-Embedding-8B, the largest member, outputs 4096-dimensional vectors.
Compared with bge-m3, which reaches 63.2 on MTEB, our model scores 69.5.
The 8B model reaches 70.58 on MTEB.
Compared with bge-m3 at 60.1 on STS, our model scores 71.0 there.
It is the successor of Qwen2-Embedding and runs on 8 H100 GPUs with a top-1 accuracy of 89%.

## Qwen3-Embedding-0.6B

The model has 28 layers and outputs 1024 dimensions.

### Training

It was trained for 3 epochs.

## The series

| Model | Parameters | Layers | Embedding dimension |
|---|---|---|---|
| Qwen3-Embedding-4B | 4B | 36 | 2560 |
| Qwen3-Embedding-8B | 8B | 36 | 4096 |

| | Qwen3-Embedding-4B | Qwen3-Embedding-8B |
|---|---|---|
| Context | 32K | 40K |

| Task | Score |
|---|---|
| STS22-v2 | 71.4 |
"""


def check(description: str, *quotes: str, subject: str | None = None):
    return ground(CARD, make_draft(description, list(quotes)), subject=subject)


def test_a_sibling_table_row_backs_no_claim_about_this_model() -> None:
    """The 4096-for-the-4B-model error, even when the LLM quotes the 8B row."""
    result = check("The model outputs 4096-dimensional vectors.", "| Qwen3-Embedding-8B | 8B | 36 | 4096 |")
    assert result.verdict == "ungrounded"
    assert result.problems == [
        'quote is about Qwen3-Embedding-8B: "| Qwen3-Embedding-8B | 8B | 36 | 4096 |"',
        "states 4096 but only a quote about Qwen3-Embedding-8B contains it",
    ]


def test_cells_of_a_sibling_row_quoted_without_the_name_are_still_its() -> None:
    result = check("The model outputs 4096-dimensional vectors.", "8B | 36 | 4096")
    assert result.verdict == "ungrounded"
    assert "states 4096 but only a quote about Qwen3-Embedding-8B contains it" in result.problems


def test_the_subjects_own_row_backs_its_claims() -> None:
    result = check("It has 4B parameters, 36 layers and 2,560 dimensions.", "Qwen3-Embedding-4B 4B 36 2560")
    assert (result.verdict, result.problems) == ("grounded", [])


def test_a_sibling_quote_next_to_a_backing_quote_makes_the_record_partial() -> None:
    result = check(
        "The model has 36 layers.", "| Qwen3-Embedding-8B | 8B | 36 | 4096 |", "| Qwen3-Embedding-4B | 4B | 36 | 2560 |"
    )
    assert result.verdict == "partial"
    assert result.problems == ['quote is about Qwen3-Embedding-8B: "| Qwen3-Embedding-8B | 8B | 36 | 4096 |"']


def test_a_transposed_table_attributes_each_column_to_its_model() -> None:
    assert check("It reads 32K tokens.", "| Context | 32K | 40K |").verdict == "grounded"
    result = check("It reads 40K tokens.", "| Context | 32K | 40K |")
    assert result.problems == ["states 40K but only a quote about Qwen3-Embedding-8B contains it"]


def test_a_table_of_benchmarks_attributes_nothing() -> None:
    assert check("It scores 71.4 on the task.", "| STS22-v2 | 71.4 |").verdict == "grounded"


@pytest.mark.parametrize(
    ("description", "quote", "owner"),
    [
        ("It outputs 4096 dimensions.", "Qwen3-Embedding-8B, the largest member, outputs 4096-dimensional vectors.",
         "Qwen3-Embedding-8B"),
        ("It reaches 63.2 on MTEB.", "Compared with bge-m3, which reaches 63.2 on MTEB", "bge-m3"),
        ("It reaches 70.58 on MTEB.", "The 8B model reaches 70.58 on MTEB.", "the 8B model"),
        ("It scores 60.1 on STS.", "Compared with bge-m3 at 60.1 on STS", "bge-m3"),
        ("It has 28 layers.", "The model has 28 layers and outputs 1024 dimensions.", "Qwen3-Embedding-0.6B"),
        ("It was trained for 3 epochs.", "It was trained for 3 epochs.", "Qwen3-Embedding-0.6B"),
    ],
    ids=["sentence-opened-by-a-sibling", "relative-clause-of-a-baseline", "the-8B-model", "clause-opened-by-a-baseline",
         "section-of-a-sibling",
         "subsection-of-a-sibling"],
)
def test_a_number_from_a_passage_about_another_artifact_is_theirs(description: str, quote: str, owner: str) -> None:
    result = check(description, quote)
    assert result.verdict == "ungrounded"
    assert f"only a quote about {owner} contains it" in result.problems[-1]


def test_the_subjects_number_in_a_comparison_sentence_backs_the_claim() -> None:
    quote = "Compared with bge-m3, which reaches 63.2 on MTEB, our model scores 69.5."
    assert check("It scores 69.5 on MTEB.", quote).verdict == "grounded"
    own = "Qwen3-Embedding-4B outputs 2560-dimensional vectors and has 36 layers."
    assert check("It has 2560 dimensions and 36 layers.", own).verdict == "grounded"


def test_names_of_standards_metrics_and_predecessors_do_not_take_numbers() -> None:
    quote = "It is the successor of Qwen2-Embedding and runs on 8 H100 GPUs with a top-1 accuracy of 89%."
    assert check("It runs on 8 GPUs at 89% top-1 accuracy.", quote).verdict == "grounded"


def test_subject_defaults_to_the_first_heading_and_an_org_prefix_is_ignored() -> None:
    description, quote = "It outputs 4096 dimensions.", "| Qwen3-Embedding-8B | 8B | 36 | 4096 |"
    assert check(description, quote).verdict == "ungrounded"
    assert check(description, quote, subject="Qwen/Qwen3-Embedding-4B").verdict == "ungrounded"
    assert check(description, quote, subject="Qwen/Qwen3-Embedding-8B").verdict == "grounded"
    assert check(description, quote, subject="").verdict == "grounded"  # attribution off


def test_a_korean_card_names_its_base_model_as_itself() -> None:
    card = KOREAN_CARD + (
        "\n| 모델 | 파라미터 | 정확도 |\n|---|---|---|\n"
        "| KoELECTRA-Small-v3 | 14M | 89.36% |\n| KoELECTRA-Base-v3 | 110M | 90.63% |\n"
    )
    subject = "KoELECTRA-Small-v3 NSMC 감성 분류기"
    mine = ground(card, make_draft("정확도 89.36%, 파라미터 14M.", ["KoELECTRA-Small-v3 | 14M | 89.36%"]), subject=subject)
    assert (mine.verdict, mine.problems) == ("grounded", [])
    theirs = ground(card, make_draft("정확도 90.63%입니다.", ["| KoELECTRA-Base-v3 | 110M | 90.63% |"]), subject=subject)
    assert theirs.problems[-1] == "states 90.63% but only a quote about KoELECTRA-Base-v3 contains it"


def test_a_template_title_is_not_taken_for_the_family_name() -> None:
    """With "model" as the family, "The model has 28 layers" would name the subject in the 0.6B section."""
    card = CARD.replace("# Qwen3-Embedding-4B", "# Model Card for Qwen3-Embedding-4B")
    result = ground(card, make_draft("It has 28 layers.", ["The model has 28 layers and outputs 1024 dimensions."]))
    assert result.problems[-1] == "states 28 but only a quote about Qwen3-Embedding-0.6B contains it"


def test_property_rows_of_a_table_that_names_a_sibling_are_not_artifacts() -> None:
    card = CARD + "\n| Property | Value |\n|---|---|\n| Layers | 36 |\n| Qwen3-Embedding-8B layers | 36 |\n"
    assert ground(card, make_draft("It has 36 layers.", ["| Layers | 36 |"])).verdict == "grounded"
    assert ground(card, make_draft("It has 36 layers.", ["| Qwen3-Embedding-8B layers | 36 |"])).verdict == "ungrounded"
