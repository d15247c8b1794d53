"""The library entry point: `Decomposer` ties sources, extraction and the cache together.

The LLM client is built only on a cache miss, so a fully cached run needs no API key and makes
no request; the cache key is built once and the same object is used for lookup and store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import httpx2

from decompose.cleaning import VERSION as CLEANER_VERSION
from decompose.errors import InputError
from decompose.extract import DEFAULT_MAX_INPUT_TOKENS, Extraction, aextract, check_max_input_tokens, extract
from decompose.llm import LLMSettings, resolve_endpoint, resolve_mode_name
from decompose.llm.budget import TokenBudget, checked_limit
from decompose.llm.limits import RateLimiter
from decompose.prompts import prompt_set_version
from decompose.records import SCHEMA_VERSION, Artifact, Card, Decomposition, Provenance
from decompose.schema import validate_decomposition
from decompose.sources import MAX_CARD_BYTES, load_card
from decompose.sources.refs import LocalRef, parse_source
from decompose.store import CacheKey, Store, default_cache_path

if TYPE_CHECKING:
    from decompose.llm import StructuredLLM

CLEANING_VERSION = CLEANER_VERSION
"""Bumped whenever the text sent to the LLM is derived differently from the fetched card."""


@dataclass(frozen=True)
class Outcome:
    """A decomposition and whether the cache answered it (no request made, nothing spent now)."""

    decomposition: Decomposition
    cached: bool


class Decomposer:
    """Decompose cards into checked capability records, with caching.

    >>> with Decomposer(LLMSettings(replay_dir=Path("fixtures/exchanges"))) as decomposer:
    ...     decomposition = decomposer.decompose("fixtures/cards/qwen3-embedding-4b.md")
    """

    def __init__(
        self,
        settings: LLMSettings | None = None,
        *,
        cache_path: Path | None = None,
        use_cache: bool = True,
        fetch_timeout: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        max_bytes: int = MAX_CARD_BYTES,
        allow_private_urls: bool = False,
        max_tokens_per_card: int | None = None,
        strict: bool = False,
        max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS,
    ) -> None:
        """`transport` replaces the HTTP transport under the LLM client (a proxy, a test double);
        record/replay still wraps it. `limiter` paces the LLM requests (`--rpm`, `--tpm`).
        `max_bytes` and `allow_private_urls` bound what a source may fetch (see `load_card`);
        `max_tokens_per_card` caps the tokens spent on one card, failed attempts included.
        `strict` drops ungrounded records (and fails when none is left); a card whose estimated
        prompt is over `max_input_tokens` is decomposed in parts (see `decompose.extract`)."""
        self.settings = settings or LLMSettings()
        self._cache_path = cache_path or default_cache_path()
        self._use_cache = use_cache
        self._fetch_timeout = fetch_timeout
        self._store: Store | None = None
        self._llm: StructuredLLM | None = None
        self._transport = transport
        self._limiter = limiter
        self._max_bytes = max_bytes
        self._allow_private_urls = allow_private_urls
        self._max_tokens_per_card = checked_limit(max_tokens_per_card)
        check_max_input_tokens(max_input_tokens)
        self._strict = strict
        self._max_input_tokens = max_input_tokens

    def decompose(self, source: str, *, stdin: BinaryIO | None = None) -> Decomposition:
        return self.decompose_with_card(source, stdin=stdin)[1]

    def decompose_with_card(self, source: str, *, stdin: BinaryIO | None = None) -> tuple[Card, Decomposition]:
        """Also hand back the card as fetched: comparison scores read its text, which records don't keep."""
        card = self._load(source, stdin)
        key = self.cache_key(card)
        cached = self._lookup(key, card)
        if cached is not None:
            return card, cached
        extraction = extract(
            card, self._client(), budget=self._budget(), strict=self._strict, max_input_tokens=self._max_input_tokens
        )
        return card, self._finish(card, key, extraction)

    async def adecompose(self, source: str, *, stdin: BinaryIO | None = None) -> Decomposition:
        return (await self.adecompose_outcome(source, stdin=stdin)).decomposition

    async def adecompose_outcome(self, source: str, *, stdin: BinaryIO | None = None) -> Outcome:
        """Also say whether the cache answered: batch runs count cost and progress by it."""
        if _may_wait(source):
            card = await asyncio.to_thread(self._load, source, stdin)
        else:
            card = self._load(source, stdin)
        key = self.cache_key(card)
        cached = self._lookup(key, card)
        if cached is not None:
            return Outcome(cached, cached=True)
        extraction = await aextract(
            card, self._client(), budget=self._budget(), strict=self._strict, max_input_tokens=self._max_input_tokens
        )
        return Outcome(self._finish(card, key, extraction), cached=False)

    def cache_key(self, card: Card) -> CacheKey:
        return CacheKey.build(
            card_digest=card.digest,
            cleaning_version=CLEANING_VERSION,
            endpoint=resolve_endpoint(self.settings),
            model=self.settings.model,
            mode=resolve_mode_name(self.settings),
            prompt_version=prompt_set_version(),
            schema_version=SCHEMA_VERSION,
            params={
                **self.settings.generation_params(),
                "strict": self._strict,
                "max_input_tokens": self._max_input_tokens,
            },
        )

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Decomposer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _load(self, source: str, stdin: BinaryIO | None) -> Card:
        return load_card(
            source,
            stdin=stdin,
            timeout=self._fetch_timeout,
            max_bytes=self._max_bytes,
            allow_private_urls=self._allow_private_urls,
        )

    def _budget(self) -> TokenBudget:
        """A fresh cap for each card: every ask made for it charges the same budget."""
        return TokenBudget(self._max_tokens_per_card)

    def _client(self) -> StructuredLLM:
        """Built on the first cache miss: importing openai and instructor is most of the start-up time."""
        if self._llm is None:
            from decompose.llm.client import StructuredLLM

            self._llm = StructuredLLM(self.settings, transport=self._transport, limiter=self._limiter)
        return self._llm

    def _cache(self) -> Store | None:
        if not self._use_cache:
            return None
        if self._store is None:
            self._store = Store(self._cache_path)
        return self._store

    def _lookup(self, key: CacheKey, card: Card) -> Decomposition | None:
        """A hit keeps its records; the artifact is re-described from this fetch (same text may
        come from a file and from the hub, and hub counts move without the card changing)."""
        store = self._cache()
        cached = store.get(key) if store is not None else None
        if cached is None:
            return None
        return cached.model_copy(update={"artifact": artifact_of(card)})

    def _finish(self, card: Card, key: CacheKey, extraction: Extraction) -> Decomposition:
        usage = extraction.usage
        decomposition = Decomposition(
            artifact=artifact_of(card),
            capabilities=extraction.capabilities,
            provenance=Provenance(
                model=self.settings.model,
                endpoint=resolve_endpoint(self.settings),
                mode=resolve_mode_name(self.settings),
                prompt_version=prompt_set_version(),
                created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                requests=usage.requests,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cache_key=key.digest,
            ),
            notes=extraction.notes,
        )
        store = self._cache()
        if store is not None and extraction.complete:  # a failed part may succeed next time
            store.put(key, decomposition)  # validates before it writes
        else:
            validate_decomposition(decomposition.model_dump(mode="json"))
        return decomposition


def _may_wait(source: str) -> bool:
    """Whether loading `source` may wait on the network or a pipe, so it must not hold up the event loop.

    A regular local file is read in the loop: handing each card to a thread cost more than reading
    it (about 0.3 ms per card, most of a warm batch's time besides validation). A source refused
    outright raises the same error either way.
    """
    try:
        ref = parse_source(source)
    except InputError:
        return False
    return not (isinstance(ref, LocalRef) and ref.path.is_file())


def artifact_of(card: Card) -> Artifact:
    return Artifact(
        id=card.id, kind=card.kind, name=card.name, url=card.url, source_digest=card.digest, metadata=card.metadata
    )
