"""Card → grounded capability records: clean, split, ask per part, re-ask once, merge, check.

The LLM only drafts; every record we keep carries the verdict of grounding against the card as
fetched, so a wrong number or an invented quote is visible, never silently trusted. Each part's
exchange is written once, as a generator of requests (`_part`), and driven either synchronously or
with asyncio, so both paths ask exactly the same things.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from decompose.cleaning import clean_card
from decompose.cleaning.chunks import Chunk, plan_chunks
from decompose.errors import ConfigError, LLMError, ReplayMiss
from decompose.extract.assemble import Assembled, assemble
from decompose.extract.checking import Checked, Checker
from decompose.extract.merge import same_capability
from decompose.extract.messages import Messages, overhead_tokens, part_messages, reground_messages
from decompose.llm import Answer, Usage
from decompose.llm.budget import TokenBudget
from decompose.records import Capability, CapabilityAnswer, Card

if TYPE_CHECKING:
    from decompose.llm import StructuredLLM

STEP = "extract"
REGROUND_STEP = "reground"
DEFAULT_MAX_INPUT_TOKENS = 12_000
MIN_PART_TOKENS = 500
PREPARE_IN_LOOP_CHARS = 256 * 1024
"""Cards up to this size are cleaned and indexed in the event loop: handing a card to a thread cost
about 2 ms of CPU (GIL hand-offs between the thread and the loop), more than half of preparing a
20 KB card. A larger card goes to a thread, so the loop is never held for long (~4 ms per 20 KB)."""


@dataclass(frozen=True)
class Extraction:
    """The records, what they cost, and notes on anything left out.

    `complete` is False when a part or a re-ask failed: the result is usable but another run may do
    better, so it should not be cached.
    """

    capabilities: list[Capability]
    usage: Usage
    notes: list[str] = field(default_factory=list)
    complete: bool = True


def check_max_input_tokens(max_input_tokens: int) -> None:
    """Refuse a budget that leaves less than 500 tokens of card text per request."""
    minimum = overhead_tokens() + MIN_PART_TOKENS
    if max_input_tokens < minimum:
        raise ConfigError(
            f"--max-input-tokens {max_input_tokens} is too small: the instructions and the answer schema take "
            f"about {overhead_tokens()} tokens; use at least {minimum}"
        )


def extract(
    card: Card,
    llm: StructuredLLM,
    *,
    budget: TokenBudget | None = None,
    strict: bool = False,
    max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS,
) -> Extraction:
    """`budget` caps the tokens of every ask made for this card (see `llm.budget`); `strict` drops
    ungrounded records; a card over `max_input_tokens` (estimated) is asked about in parts."""
    checker, chunks = _prepare(card, max_input_tokens)
    try:
        results = [
            _drive(_part(checker, chunk, index + 1, len(chunks)), llm, budget) for index, chunk in enumerate(chunks)
        ]
    except LLMError as error:
        raise error.located(card=card.source, step=STEP) from None
    return _finish(card, checker, results, strict=strict)


async def aextract(
    card: Card,
    llm: StructuredLLM,
    *,
    budget: TokenBudget | None = None,
    strict: bool = False,
    max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS,
) -> Extraction:
    """`extract` for asyncio callers; the parts of a long card are asked concurrently."""
    if len(card.text) <= PREPARE_IN_LOOP_CHARS:
        checker, chunks = _prepare(card, max_input_tokens)
    else:
        checker, chunks = await asyncio.to_thread(_prepare, card, max_input_tokens)
    parts = [_adrive(_part(checker, chunk, index + 1, len(chunks)), llm, budget) for index, chunk in enumerate(chunks)]
    try:
        results = await asyncio.gather(*parts)
    except LLMError as error:
        raise error.located(card=card.source, step=STEP) from None
    return _finish(card, checker, list(results), strict=strict)


def assemble_answer(card: Card, answer: CapabilityAnswer, *, strict: bool = False) -> Assembled:
    """The records (and notes) an answer for the whole card gives, without asking anything."""
    checker = Checker(card)
    return assemble(card, checker, checker.check_all(answer.capabilities), strict=strict)


@dataclass(frozen=True)
class _Request:
    messages: Messages
    step: str


@dataclass(frozen=True)
class _PartResult:
    chunk: Chunk
    checked: list[Checked]
    usage: Usage
    failure: LLMError | None = None
    notes: tuple[str, ...] = ()


_Reply = Answer[CapabilityAnswer] | LLMError
_Exchange = Generator[_Request, _Reply, _PartResult]


def _prepare(card: Card, max_input_tokens: int) -> tuple[Checker, list[Chunk]]:
    check_max_input_tokens(max_input_tokens)
    return Checker(card), plan_chunks(clean_card(card), card.sections, max_input_tokens - overhead_tokens())


def _part(checker: Checker, chunk: Chunk, part: int, parts: int) -> _Exchange:
    """Ask for one part; re-ask once about the records that came out ungrounded, with their problems."""
    asked = part_messages(chunk.text, part, parts)
    reply = yield _Request(asked, STEP)
    if isinstance(reply, LLMError):
        return _PartResult(chunk, [], Usage(), failure=reply)
    checked = checker.check_all(reply.value.capabilities)
    flagged = [item for item in checked if item.ungrounded]
    if not flagged:
        return _PartResult(chunk, checked, reply.usage)
    problems = [item.grounded.problems for item in flagged]
    again = yield _Request(reground_messages(asked, [item.draft for item in flagged], problems), REGROUND_STEP)
    if isinstance(again, LLMError):
        records = "1 ungrounded record" if len(flagged) == 1 else f"{len(flagged)} ungrounded records"
        note = f"re-asking about {records} failed ({again.cause}); they stay flagged"
        return _PartResult(chunk, checked, reply.usage, notes=(note,))
    fixes = checker.check_all(again.value.capabilities)
    return _PartResult(chunk, _replace_fixed(checked, fixes), reply.usage + again.usage)


def _replace_fixed(checked: list[Checked], fixes: list[Checked]) -> list[Checked]:
    """Each ungrounded record is replaced by the re-ask's record of the same capability, when that one
    is better grounded; a record the re-ask dropped or did not fix stays, flagged. A re-ask fixes, it
    never adds: records matching none of the flagged ones are ignored."""
    unused = list(fixes)
    result = []
    for item in checked:
        if item.ungrounded:
            fix = next((candidate for candidate in unused if same_capability(item.draft, candidate.draft)), None)
            if fix is not None and fix.rank() < item.rank():
                unused.remove(fix)
                item = fix
        result.append(item)
    return result


def _drive(exchange: _Exchange, llm: StructuredLLM, budget: TokenBudget | None) -> _PartResult:
    try:
        request = next(exchange)
        while True:
            try:
                reply: _Reply = llm.ask(request.messages, CapabilityAnswer, step=request.step, budget=budget)
            except LLMError as error:
                reply = _tolerated(error, budget)
            request = exchange.send(reply)
    except StopIteration as done:
        return done.value


async def _adrive(exchange: _Exchange, llm: StructuredLLM, budget: TokenBudget | None) -> _PartResult:
    try:
        request = next(exchange)
        while True:
            try:
                reply: _Reply = await llm.aask(request.messages, CapabilityAnswer, step=request.step, budget=budget)
            except LLMError as error:
                reply = _tolerated(error, budget)
            request = exchange.send(reply)
    except StopIteration as done:
        return done.value


def _tolerated(error: LLMError, budget: TokenBudget | None) -> LLMError:
    """A failed answer is the part's failure, reported in the notes; a replay miss (a stale fixture)
    and a spent token cap end the card instead, as they would end every other part too."""
    spent = budget is not None and budget.limit is not None and budget.tokens >= budget.limit
    if isinstance(error, ReplayMiss) or spent:
        raise error
    return error


def _finish(card: Card, checker: Checker, results: list[_PartResult], *, strict: bool) -> Extraction:
    """One failed part is reported in the notes; the card fails only when every part failed."""
    failures = [result.failure for result in results if result.failure is not None]
    if len(failures) == len(results):
        first = failures[0]
        if len(results) == 1:
            raise first.located(card=card.source)
        raise LLMError(f"all {len(results)} parts of the card failed; the first: {first.cause}",
                       card=card.source, step=STEP)
    notes = [
        f"part {index} of {len(results)} ({result.chunk.label}) was not decomposed: {result.failure.cause}"
        for index, result in enumerate(results, start=1) if result.failure is not None
    ]
    notes += [note for result in results for note in result.notes]
    assembled = assemble(card, checker, [item for result in results for item in result.checked], strict=strict)
    return Extraction(
        capabilities=assembled.capabilities,
        usage=sum((result.usage for result in results), Usage()),
        notes=notes + assembled.notes,
        complete=not failures and not any(result.notes for result in results),
    )
