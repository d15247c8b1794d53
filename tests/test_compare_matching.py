"""Matching: A's and B's records that describe the same capability pair up, with a reason; others don't."""

from __future__ import annotations

from decompose.compare.matching import THRESHOLD, match_capabilities, normalise
from decompose.records import Capability, Evidence


def record(name: str, description: str, intents: tuple[str, ...] = (), side: str = "a") -> Capability:
    return Capability(
        id=f"{side}/{name.replace(' ', '-')}",
        name=name,
        description=description.ljust(80, "."),
        unique="What sets this capability apart from the others around.",
        vs_alternatives=[{"alternative": "Other", "comparison": "cheaper but slower"}],
        intents=list(intents),
        evidence=[Evidence(quote="a quote from the card", start=0, end=21, match="exact")],
        grounding="grounded",
    )


EMBEDDING_A = record(
    "dense text embedding",
    "Maps a query or passage to a dense vector so that related texts land close together for semantic search.",
    ("semantic search over documents",),
)
EMBEDDINGS_TEXT = (
    "Turns sentences into dense vectors; similar sentences get nearby vectors, used for semantic search and clustering."
)
EMBEDDING_B = record(
    "text embeddings",
    EMBEDDINGS_TEXT,
    ("semantic search",),
    side="b",
)
CORPUS_B = record(
    "source code corpus",
    "A very large collection of source files from public repositories, in hundreds of programming languages.",
    ("pre-training code models",),
    side="b",
)
OPT_OUT_A = record(
    "developer opt-out",
    "Developers can ask for their repositories to be removed; removals apply to later versions of the data.",
    side="a",
)


def test_normalised_names_ignore_case_plurals_punctuation_and_stop_words() -> None:
    assert normalise("Text Embeddings, for the Retrieval!") == ["text", "embedding", "retrieval"]
    assert normalise("libraries") == ["library"]


def test_records_about_the_same_capability_pair_up_with_an_explanation() -> None:
    matching = match_capabilities([EMBEDDING_A, OPT_OUT_A], [CORPUS_B, EMBEDDING_B], a_label="X", b_label="Y")
    assert [(pair.a, pair.b) for pair in matching.pairs] == [(EMBEDDING_A.id, EMBEDDING_B.id)]
    pair = matching.pairs[0]
    assert pair.similarity >= THRESHOLD
    assert "names share embedding, text" in pair.reason
    assert "dense" in pair.reason and "text similarity" in pair.reason
    assert pair.needs == ["semantic search over documents", "semantic search"]
    assert [u.name for u in matching.only_a] == ["developer opt-out"]
    assert [u.name for u in matching.only_b] == ["source code corpus"]
    assert "below the 0.35 threshold" in matching.only_a[0].reason and "closest on Y" in matching.only_a[0].reason
    assert matching.overlap == 0.5


def test_same_normalised_name_is_a_full_match_whatever_the_text() -> None:
    other = record("Dense Text Embeddings", "Described in entirely different words, nothing shared.", side="b")
    matching = match_capabilities([EMBEDDING_A], [other])
    assert matching.pairs[0].similarity == 1.0
    assert matching.pairs[0].reason == 'same normalised name "dense embedding text"'


def test_unrelated_records_stay_unpaired() -> None:
    matching = match_capabilities([OPT_OUT_A], [EMBEDDING_B])
    assert matching.pairs == []
    assert matching.overlap == 0.0
    assert matching.only_a[0].needs == ["developer opt-out"]  # no intents: the name stands for the need


def test_pairing_is_one_to_one_and_the_better_pair_wins() -> None:
    close_copy = record("text embeddings", EMBEDDINGS_TEXT, side="a2")
    matching = match_capabilities([EMBEDDING_A, close_copy], [EMBEDDING_B])
    assert [(pair.a, pair.b) for pair in matching.pairs] == [(close_copy.id, EMBEDDING_B.id)]
    assert "was paired with a closer record" in matching.only_a[0].reason


def test_ties_break_by_position_so_the_result_is_stable() -> None:
    twin_one = record("text embeddings", "Same words in both.", side="b1")
    twin_two = record("text embeddings", "Same words in both.", side="b2")
    first = match_capabilities([EMBEDDING_B], [twin_one, twin_two])
    assert [(pair.a, pair.b) for pair in first.pairs] == [(EMBEDDING_B.id, twin_one.id)]
    assert first == match_capabilities([EMBEDDING_B], [twin_one, twin_two])


def test_an_empty_side_matches_nothing() -> None:
    matching = match_capabilities([EMBEDDING_A], [], b_label="Empty")
    assert matching.pairs == [] and matching.only_a[0].reason == "Empty has no capability records"
    assert match_capabilities([], []).overlap is None
