"""Method claims: a record stating a method the card contradicts is ungrounded, even with true quotes."""

from __future__ import annotations

import pytest

from decompose.grounding import ground
from decompose.grounding.methods import stated_methods
from tests.test_grounding import EMBEDDING_CARD, KOREAN_CARD, make_draft

POOLING_QUOTE = "Pooling: the vector is the hidden state of the last token (last-token pooling)."


@pytest.mark.parametrize(
    ("description", "stated"),
    [
        ("The sentence vector is obtained by mean pooling over the hidden states.", "mean pooling"),
        ("The hidden states are averaged over all tokens to form the embedding.", "mean pooling"),
        ("The embedding is the [CLS] token representation of the last layer.", "[CLS] pooling"),
        ("Max pooling over the token states gives the vector.", "max pooling"),
    ],
)
def test_a_pooling_method_the_card_contradicts_is_flagged(description: str, stated: str) -> None:
    result = ground(EMBEDDING_CARD, make_draft(description, [POOLING_QUOTE]))
    assert result.verdict == "ungrounded"
    assert result.problems == [f"states {stated} but the card says last-token pooling"]


@pytest.mark.parametrize(
    "description",
    [
        "Instead of mean pooling, the vector is the hidden state of the last token.",
        "Rather than averaging all tokens, it reads the final token.",
        "It takes the last token, unlike mean-pooled encoders.",
    ],
)
def test_a_negated_or_contrasted_method_is_not_a_claim(description: str) -> None:
    assert ground(EMBEDDING_CARD, make_draft(description, [POOLING_QUOTE])).verdict == "grounded"


def test_a_card_that_says_nothing_about_a_method_contradicts_nothing() -> None:
    draft = make_draft("Sentences are mean-pooled into one vector per review.", ["테스트 세트 정확도 89.36%를 기록했습니다."])
    assert ground(KOREAN_CARD, draft).problems == []


def test_a_card_that_names_both_methods_backs_either() -> None:
    card = EMBEDDING_CARD + "\nBoth mean pooling and last-token pooling are supported.\n"
    draft = make_draft("It supports mean pooling as well.", ["Both mean pooling and last-token pooling are supported."])
    assert ground(card, draft).verdict == "grounded"


def test_a_neutral_class_contradicts_a_binary_classifier() -> None:
    card = KOREAN_CARD + "\n이진 감성 분류기입니다. 중립 레이블은 없습니다.\n"
    three_way = make_draft("Each review is labelled positive, negative or neutral.", ["이진 감성 분류기입니다."])
    assert ground(card, three_way).problems == [
        "states three-or-more-class classification but the card says binary classification"
    ]
    binary = make_draft("A binary classifier; it lacks a neutral class.", ["이진 감성 분류기입니다."])
    assert ground(card, binary).verdict == "grounded"


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("The vector is the averaged hidden states of the encoder.", "mean pooling"),
        ("It AVERAGES ALL TOKEN EMBEDDINGS into one vector.", "mean pooling"),
        ("Embeddings come from the [CLS] token.", "[CLS] pooling"),
        ("We take the final token of each sequence.", "last-token pooling"),
        ("A bınary classification head sits on top.", "binary classification"),
        ("It is a 3-way classifier over reviews.", "three-or-more-class classification"),
        ("문장 임베딩은 평균 풀링으로 만듭니다.", "mean pooling"),
        ("중립 클래스도 예측합니다.", "three-or-more-class classification"),
    ],
)
def test_every_spelling_of_a_method_is_found_despite_the_keyword_prefilter(text: str, method: str) -> None:
    """stated_methods skips a method whose keywords are absent: each keyword list must cover its pattern."""
    assert method in {found.name for found in stated_methods(text)}
