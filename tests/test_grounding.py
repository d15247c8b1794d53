"""Grounding: quotes are found where they are (with offsets), and numbers a record states must be quoted."""

from __future__ import annotations

import pytest

from decompose.grounding import CardIndex, align_quote, ground, normalize
from decompose.records import CapabilityDraft

EMBEDDING_CARD = """\
# Qwen3-Embedding-4B

## Highlights

Qwen3-Embedding-4B turns text into dense vectors for retrieval,
clustering and classification. It has 4B parameters spread over 36 layers
and reads inputs of up to 32K tokens.

- Embedding dimension: 2560 by default; you may request any output size
  from 32 up to 2560 (sizes 32–2560 are selectable at inference time).
- Pooling: the vector is the hidden state of the last token (last-token pooling).

| Model | Size | Layers | Embedding dim |
|---|---|---|---|
| Qwen3-Embedding-4B | 4B | 36 | 2560 |
| Qwen3-Embedding-8B | 8B | 36 | 4096 |
"""

KOREAN_CARD = """\
# KoELECTRA-Small 감성 분류기

이 모델은 NSMC(네이버 영화 리뷰 말뭉치)로 미세 조정한 한국어 감성 분류기입니다.
모델은 약 1,400만 개의 파라미터로 이루어져 있어
CPU에서도 빠르게 동작합니다.

학습에는 150K 개의 리뷰를, 평가에는 50K 개의 리뷰를 사용했습니다.
테스트 세트 정확도 89.36%를 기록했습니다.
"""

NEUTRAL_UNIQUE = "It is the variant of its family meant for common hardware."


def make_draft(description: str, evidence: list[str], unique: str = NEUTRAL_UNIQUE) -> CapabilityDraft:
    """A valid draft whose only interesting parts are the ones a test sets."""
    return CapabilityDraft(
        name="test capability",
        description=description.ljust(80, "."),
        unique=unique,
        vs_alternatives=[{"alternative": "Some Other Model", "comparison": "A neutral comparison text."}],
        evidence=evidence,
    )


# --- alignment ---------------------------------------------------------------------------------


def test_exact_quote_reports_its_offsets() -> None:
    quote = "It has 4B parameters spread over 36 layers"
    evidence = align_quote(EMBEDDING_CARD, quote)
    assert evidence.match == "exact"
    assert EMBEDDING_CARD[evidence.start : evidence.end] == quote
    assert evidence.start == EMBEDDING_CARD.index("It has 4B")


def test_quote_differing_in_whitespace_and_case_aligns_normalised_to_the_original_span() -> None:
    quote = "any output size FROM 32 UP TO 2560"  # the card breaks the line after "size"
    evidence = align_quote(EMBEDDING_CARD, quote)
    assert evidence.match == "normalized"
    span = EMBEDDING_CARD[evidence.start : evidence.end]
    assert "\n" in span
    assert span.startswith("any output size") and span.endswith("2560")
    assert normalize(span) == normalize(quote)


def test_compatibility_forms_and_invisible_characters_are_normalised() -> None:
    text = "Trained on ＣＯＤＥ in 600 languages, ﬁne-tuned with\u00a0care."
    evidence = align_quote(text, "code in 600 languages, fine-tuned\u200b with care")
    assert evidence.match == "normalized"
    assert text[evidence.start : evidence.end] == "ＣＯＤＥ in 600 languages, ﬁne-tuned with\u00a0care"


def test_a_match_never_reports_half_of_a_character_that_normalises_to_several() -> None:
    text = "keep the ﬁle"  # "ﬁ" normalises to "fi"
    assert align_quote(text, "KEEP THE F").match == "none"
    assert align_quote(text, "KEEP THE FI").match == "normalized"


def test_korean_quote_is_found_exactly() -> None:
    quote = "테스트 세트 정확도 89.36%를 기록했습니다."
    evidence = align_quote(KOREAN_CARD, quote)
    assert evidence.match == "exact"
    assert KOREAN_CARD[evidence.start : evidence.end] == quote


@pytest.mark.parametrize(
    "quote",
    [
        "약 1,400만 개의 파라미터로 이루어져 있어 CPU에서도 빠르게 동작합니다",  # line break in the card
        "약 1,400만개의 파라미터로 이루어져있어\nCPU에서도 빠르게동작합니다",  # Korean spacing differs
    ],
)
def test_korean_quote_with_other_spacing_aligns_normalised(quote: str) -> None:
    evidence = align_quote(KOREAN_CARD, quote)
    assert evidence.match == "normalized"
    span = KOREAN_CARD[evidence.start : evidence.end]
    assert span.startswith("약 1,400만") and span.endswith("동작합니다")
    assert normalize(span) == normalize(quote)


def test_spacing_still_separates_latin_words_in_the_normalised_form() -> None:
    assert normalize("last token pooling") != normalize("lasttoken pooling")
    assert align_quote(EMBEDDING_CARD, "the last token (lasttoken pooling)").match == "fuzzy"


def test_fabricated_quote_is_not_found() -> None:
    evidence = align_quote(EMBEDDING_CARD, "The vector is the mean of all token states.")
    assert (evidence.match, evidence.start, evidence.end) == ("none", None, None)


# --- verdicts ----------------------------------------------------------------------------------


def test_fabricated_quote_makes_the_record_ungrounded() -> None:
    quote = "The embedding is computed by mean pooling over every token hidden state in the input text."
    result = ground(EMBEDDING_CARD, make_draft("Vectors are averaged over all tokens of the input.", [quote]))
    assert result.verdict == "ungrounded"
    assert result.evidence[0].match == "none"
    assert result.problems == [
        f'quote not found in the card: "{quote[:60]}…"',
        "states mean pooling but the card says last-token pooling",
    ]


def test_number_of_a_sibling_model_makes_the_record_ungrounded() -> None:
    draft = make_draft(
        "The model outputs 4096-dimensional dense vectors for every input text.",
        ["Embedding dimension: 2560 by default"],
    )
    result = ground(EMBEDDING_CARD, draft)
    assert result.verdict == "ungrounded"
    assert result.problems == ["states 4096 but no evidence quote contains it"]


def test_number_is_sought_in_the_quotes_not_anywhere_in_the_card() -> None:
    """The card's table has 4096 (the 8B sibling), yet only the record's own quotes count."""
    draft = make_draft("The model outputs 4096-dimensional vectors.", ["It has 4B parameters spread over 36 layers"])
    assert "4096" in EMBEDDING_CARD
    assert ground(EMBEDDING_CARD, draft).verdict == "ungrounded"


def test_same_number_written_with_a_thousands_separator_is_grounded() -> None:
    draft = make_draft("By default every text becomes a 2,560-dimensional vector.", ["Embedding dimension: 2560"])
    result = ground(EMBEDDING_CARD, draft)
    assert (result.verdict, result.problems) == ("grounded", [])


def test_multiplier_in_words_matches_the_letter() -> None:
    draft = make_draft("The encoder has 4 billion parameters in 36 layers.", ["It has 4B parameters spread over 36 layers"])
    assert ground(EMBEDDING_CARD, draft).verdict == "grounded"
    wrong = make_draft("The encoder has 8 billion parameters in 36 layers.", ["It has 4B parameters spread over 36 layers"])
    assert ground(EMBEDDING_CARD, wrong).problems == ["states 8 billion but no evidence quote contains it"]


def test_digits_inside_names_are_not_checked() -> None:
    draft = make_draft(
        "Like OpenAI text-embedding-3-large it maps text to vectors; it is built on Qwen3 and uses L2 norms.",
        ["the vector is the hidden state of the last token"],
        unique="Unlike bge-m3 or all-MiniLM-L6-v2 it pools the last token.",
    )
    result = ground(EMBEDDING_CARD, draft)
    assert (result.verdict, result.problems) == ("grounded", [])


def test_range_is_backed_by_a_range_in_other_words() -> None:
    draft = make_draft("Callers choose an output size in the range 32–2560.", ["any output size\n  from 32 up to 2560"])
    assert ground(EMBEDDING_CARD, draft).verdict == "grounded"
    too_wide = make_draft("Callers choose an output size in the range 32–4096.", ["any output size\n  from 32 up to 2560"])
    assert ground(EMBEDDING_CARD, too_wide).problems == ["states 4096 but no evidence quote contains it"]


def test_one_fabricated_quote_of_two_makes_the_record_ungrounded() -> None:
    draft = make_draft(
        "The vector is read from the final token of the input rather than averaged.",
        ["the hidden state of the last token", "Pooling is learned by an attention head."],
    )
    result = ground(EMBEDDING_CARD, draft)
    assert result.verdict == "ungrounded"
    assert [e.match for e in result.evidence] == ["exact", "none"]
    assert result.problems == ['quote not found in the card: "Pooling is learned by an attention head."']


def test_a_quote_found_only_approximately_makes_the_record_partial() -> None:
    draft = make_draft(
        "The vector is the hidden state of the last token of the input.",
        ["the hidden state of the last token", "Pooling: the vector is the hiden state of the last tokn"],
    )
    result = ground(EMBEDDING_CARD, draft)
    assert result.verdict == "partial"
    assert [e.match for e in result.evidence] == ["exact", "fuzzy"]
    assert result.problems == [
        'quote found only approximately (98% similar): "Pooling: the vector is the hiden state of the last tokn"'
    ]


def test_unquoted_number_outweighs_partial() -> None:
    draft = make_draft("It reads 128K tokens at once.", ["reads inputs of up to 32K tokens", "A made-up sentence here."])
    assert ground(EMBEDDING_CARD, draft).verdict == "ungrounded"


def test_vs_alternatives_is_not_held_to_the_card() -> None:
    draft = make_draft("It reads long inputs of up to 32K tokens.", ["reads inputs of up to 32K tokens"])
    draft.vs_alternatives[0].comparison = "Shorter vectors than the 3072 of text-embedding-3-large."
    assert ground(EMBEDDING_CARD, draft).verdict == "grounded"


def test_unique_is_held_to_the_card_and_problems_are_listed_once_in_order() -> None:
    draft = make_draft(
        "It has 48 layers; each of the 48 layers is wider than in the small sibling.",
        ["It has 4B parameters spread over 36 layers", "Nothing like this is in the card."],
        unique="Its 4096-dimensional output is wider than most open models.",
    )
    assert ground(EMBEDDING_CARD, draft).problems == [
        'quote not found in the card: "Nothing like this is in the card."',
        "states 48 but no evidence quote contains it",
        "states 4096 but no evidence quote contains it",
    ]


def test_korean_quantities_are_grounded() -> None:
    draft = make_draft(
        "약 14M 개의 파라미터를 가진 작은 모델로, NSMC 테스트 세트에서 정확도 89.36%를 냈습니다. "
        "학습에는 15만 건, 평가에는 5만 건의 리뷰를 썼습니다.",
        ["약 1,400만 개의 파라미터", "학습에는 150K 개의 리뷰를, 평가에는 50K 개의 리뷰를", "정확도 89.36%를 기록했습니다"],
    )
    result = ground(KOREAN_CARD, draft)
    assert (result.verdict, result.problems) == ("grounded", [])


def test_korean_parameter_count_of_another_size_is_ungrounded() -> None:
    draft = make_draft(
        "약 23.5M 개의 파라미터를 가진 모델로, 정확도는 89.36%입니다.",
        ["약 1,400만 개의 파라미터", "정확도 89.36%를 기록했습니다"],
    )
    assert ground(KOREAN_CARD, draft).problems == ["states 23.5M but no evidence quote contains it"]


def test_percentage_needs_a_percentage() -> None:
    draft = make_draft("It classified 89.36 reviews out of every hundred correctly.", ["정확도 89.36%를 기록했습니다"])
    assert ground(KOREAN_CARD, draft).problems == ["states 89.36 but no evidence quote contains it"]


def test_index_reused_across_drafts_and_refused_for_another_card() -> None:
    index = CardIndex(EMBEDDING_CARD)
    draft = make_draft("It reads inputs of up to 32K tokens.", ["reads inputs of up to 32K tokens"])
    assert ground(EMBEDDING_CARD, draft, index).verdict == "grounded"
    with pytest.raises(ValueError):
        ground(KOREAN_CARD, draft, index)
