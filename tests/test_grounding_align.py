"""Quote alignment v2: Markdown/HTML markup, typography, Korean text, and guarded fuzzy matches."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest

from decompose.grounding import CardIndex, align_quote, normalize

CARD = """\
# Qwen3-Embedding-4B

## Flexible output size

**Flexible output size.** The model is trained with *Matryoshka Representation Learning* (MRL): the
leading part of the vector already carries most of the meaning. Load it with `truncate_dim`, see
[the Sentence Transformers docs](https://sbert.net/docs "docs") for details.

- Pooling: last token; the embedding is the hidden state of the final [EOS] token
- Sizes: 32–2560 ("flexible")

| Model | Parameters | Layers | Embedding dimension |
|---|---|---|---|
| Qwen3-Embedding-4B | 4B | 36 | 2560 |
| Qwen3-Embedding-8B | 8B | 36 | 4096 |

<p>It has <b>4B</b> parameters &amp; 36 layers.</p>

You need transformers>=4.51.0; older releases do not know the `qwen3` architecture and stop with an error.

The 8B sibling outputs vectors of 4096 dimensions, larger than those of this model.
"""

KOREAN = """\
## 학습 데이터

NSMC(Naver Sentiment Movie Corpus)는 네이버 영화에 달린 사용자 리뷰를 모아 만든 공개 감성 분석
말뭉치입니다. 평점이 낮은 리뷰는 부정, 평점이 높은 리뷰는 긍정으로 표시되었고, 중간 평점의 리뷰는 빠져 있습니다.

| 모델 | 파라미터 수 | NSMC 정확도 (test) |
|---|---|---|
| KoELECTRA-Small-v3 | 14M | 89.36% |
"""


def located_text(card: str, quote: str) -> tuple[str, str]:
    evidence = align_quote(card, quote)
    assert evidence.start is not None and evidence.end is not None, f"{quote!r} was not found"
    return evidence.match, card[evidence.start : evidence.end]


@pytest.mark.parametrize(
    ("quote", "span"),
    [
        ("Qwen3-Embedding-4B 4B 36 2560", "Qwen3-Embedding-4B | 4B | 36 | 2560"),
        ("|Qwen3-Embedding-4B|4B|36|2560|", "Qwen3-Embedding-4B | 4B | 36 | 2560"),
        (
            "Flexible output size. The model is trained with Matryoshka Representation Learning (MRL)",
            "Flexible output size.** The model is trained with *Matryoshka Representation Learning* (MRL)",
        ),
        ("Load it with truncate_dim, see the Sentence Transformers docs for details",
         'Load it with `truncate_dim`, see\n[the Sentence Transformers docs](https://sbert.net/docs "docs") for details'),
        ("Flexible output size Flexible output size. The model", "Flexible output size\n\n**Flexible output size.** The model"),
        ("Pooling: last token; the embedding is the hidden state of the final [EOS] token Sizes: 32-2560",
         "Pooling: last token; the embedding is the hidden state of the final [EOS] token\n- Sizes: 32–2560"),
        ('Sizes: 32-2560 (“flexible”)', 'Sizes: 32–2560 ("flexible")'),
        ("It has 4B parameters & 36 layers.", "It has <b>4B</b> parameters &amp; 36 layers."),
        ("older releases do not know the qwen3 architecture", "older releases do not know the `qwen3` architecture"),
    ],
    ids=["table-without-pipes", "table-with-pipes", "emphasis", "link-and-code", "heading", "list-bullets",
         "typographic-quotes-and-dashes", "html-tags-and-entities", "code-ticks"],
)
def test_markup_is_read_through_and_offsets_point_into_the_card(quote: str, span: str) -> None:
    match, found = located_text(CARD, quote)
    assert match == "normalized"
    assert found == span
    assert normalize(found) == normalize(quote)


def test_markup_in_the_quote_is_read_through_as_well() -> None:
    plain = "It has 4B parameters & 36 layers."
    card = f"Intro.\n\n{plain}\n"
    match, found = located_text(card, "It has **4B** parameters &amp; 36 layers.")
    assert (match, found) == ("normalized", plain)


@pytest.mark.parametrize(
    "quote",
    [
        "네이버 영화에 달린 사용자 리뷰를 모아 만든 공개 감성 분석 말뭉치입니다.",  # line break in the card
        "네이버영화에 달린 사용자리뷰를 모아만든 공개 감성분석 말뭉치 입니다",  # other Korean spacing
    ],
)
def test_korean_quote_with_other_spacing_aligns_normalised(quote: str) -> None:
    match, found = located_text(KOREAN, quote)
    assert match == "normalized"
    assert found.startswith("네이버 영화에") and "말뭉치입니다" in found


def test_korean_table_row_aligns_without_pipes() -> None:
    assert located_text(KOREAN, "KoELECTRA-Small-v3 14M 89.36%") == ("normalized", "KoELECTRA-Small-v3 | 14M | 89.36%")


def test_korean_quote_with_a_dropped_syllable_aligns_fuzzy() -> None:
    quote = "평점이 낮은 리뷰는 부정, 평점이 높은 리뷰는 긍정으로 표시되었고, 중간 평점 리뷰는 빠져 있습니다."  # "의" dropped
    match, found = located_text(KOREAN, quote)
    assert match == "fuzzy"
    assert found == "평점이 낮은 리뷰는 부정, 평점이 높은 리뷰는 긍정으로 표시되었고, 중간 평점의 리뷰는 빠져 있습니다."


def test_korean_quote_with_swapped_words_is_not_found() -> None:
    swapped = "평점이 낮은 리뷰는 긍정, 평점이 높은 리뷰는 부정으로 표시되었고, 중간 평점의 리뷰는 빠져 있습니다."
    assert SequenceMatcher(None, normalize(swapped), normalize(KOREAN)).ratio() < 1  # sanity
    assert align_quote(KOREAN, swapped).match == "none"


def test_quote_with_a_typo_aligns_fuzzy_to_the_original_span() -> None:
    match, found = located_text(CARD, "The model is trained with Matryoshka Represntation Learning (MRL): the leading part")
    assert match == "fuzzy"
    assert found == "The model is trained with *Matryoshka Representation Learning* (MRL): the\nleading part"


def similarity(quote: str, original: str) -> float:
    return SequenceMatcher(None, normalize(quote), normalize(original), autojunk=False).ratio()


@pytest.mark.parametrize(
    ("quote", "original"),
    [
        (
            "The 8B sibling outputs vectors of 2560 dimensions, larger than those of this model.",
            "The 8B sibling outputs vectors of 4096 dimensions, larger than those of this model.",
        ),
        (
            "the leading part of the vector already carries most of the meaning in 32",
            "the leading part of the vector already carries most of the meaning",
        ),
        (
            "You need transformers>=4.51.0; older releases know the `qwen3` architecture and stop with an error.",
            "You need transformers>=4.51.0; older releases do not know the `qwen3` architecture and stop with an error.",
        ),
        (
            "Pooling: mean token; the embedding is the hidden state of the final [EOS] token",
            "Pooling: last token; the embedding is the hidden state of the final [EOS] token",
        ),
    ],
    ids=["changed-number", "added-number", "dropped-negation", "substituted-word"],
)
def test_fuzzy_never_accepts_a_change_of_number_negation_or_word(quote: str, original: str) -> None:
    assert original in CARD.replace("\n", " ") or normalize(original) in normalize(CARD)
    assert similarity(quote, original) >= 0.9  # close enough that only the guard rejects it
    assert align_quote(CARD, quote).match == "none"


def test_short_quotes_are_never_matched_fuzzily() -> None:
    assert align_quote(CARD, "last tokn; the").match == "none"
    assert align_quote(CARD, "Pooling: last tokn; the").match == "fuzzy"


def test_card_index_aligns_on_a_90_kb_card() -> None:
    card = (CARD + KOREAN) * 95
    assert len(card) >= 90_000
    index = CardIndex(card)
    results = [
        index.locate(quote).match
        for quote in [
            "Qwen3-Embedding-4B 4B 36 2560",
            "The model is trained with Matryoshka Represntation Learning (MRL): the leading part",
            "평점이 낮은 리뷰는 부정, 평점이 높은 리뷰는 긍정으로 표시되었고, 중간 평점 리뷰는 빠져 있습니다.",
            "This sentence is nowhere in the card at all, in any form.",
        ]
    ]
    assert results == ["normalized", "fuzzy", "fuzzy", "none"]
