"""Prompt tokens per card before and after cleaning, and whether every cited quote survives it.

    python bench/tokens.py

For each fixture card (the three plain ones and their noisy twins in fixtures/cards/noisy/, which
state the same facts amid the chrome real cards carry: HTML header and logo, badges, HTML comments,
`<details>` blocks, a long language table, template placeholders, BibTeX, code) it prints the
estimated prompt tokens of the request with the card as fetched and with the cleaned card (the
estimate `decompose` itself budgets with: ⌈(ASCII chars + 4 × other chars) / 4⌉, plus the
instructions and the answer schema), the saving, and how many of the quotes the faithful answer
(fixtures/answers/<card>.json) cites are still in the cleaned text. Exit code 1 when a noisy card
saves less than 30 % or a quote is lost: the targets of issue 3.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decompose.cleaning import clean_card  # noqa: E402
from decompose.cleaning.chunks import estimate_tokens  # noqa: E402
from decompose.extract.messages import estimated_prompt_tokens  # noqa: E402
from decompose.sources import load_card  # noqa: E402

CARDS = ROOT / "fixtures" / "cards"
ANSWERS = ROOT / "fixtures" / "answers"
TARGET_SAVING = 0.30


def quotes(stem: str) -> list[str]:
    data = json.loads((ANSWERS / f"{stem}.json").read_text(encoding="utf-8"))
    return [quote for capability in data["capabilities"] for quote in capability["evidence"]]


def measure(path: Path) -> dict[str, object]:
    card = load_card(str(path))
    cleaned = clean_card(card).text
    cited = quotes(path.stem)
    before, after = estimated_prompt_tokens(card.text), estimated_prompt_tokens(cleaned.strip())
    return {
        "card": str(path.relative_to(CARDS)),
        "bytes": len(card.text.encode("utf-8")),
        "card_tokens": (estimate_tokens(card.text), estimate_tokens(cleaned)),
        "prompt_tokens": (before, after),
        "saving": 1 - after / before,
        "quotes_kept": (sum(quote in cleaned for quote in cited), len(cited)),
    }


def main() -> int:
    stems = sorted(path.stem for path in ANSWERS.glob("*.json") if not path.name.endswith(".unfaithful.json"))
    paths = [CARDS / f"{stem}.md" for stem in stems] + [CARDS / "noisy" / f"{stem}.md" for stem in stems]
    rows = [measure(path) for path in paths]
    print("| card | bytes | card tokens before → after | prompt tokens before → after | saving | quotes kept |")
    print("|---|---:|---:|---:|---:|---:|")
    failures = []
    for row in rows:
        card_before, card_after = row["card_tokens"]
        prompt_before, prompt_after = row["prompt_tokens"]
        kept, cited = row["quotes_kept"]
        print(
            f"| {row['card']} | {row['bytes']} | {card_before} → {card_after} | {prompt_before} → {prompt_after} "
            f"| {row['saving']:.0%} | {kept}/{cited} |"
        )
        if kept != cited:
            failures.append(f"{row['card']}: {cited - kept} cited quotes lost by cleaning")
        if str(row["card"]).startswith("noisy/") and row["saving"] < TARGET_SAVING:
            failures.append(f"{row['card']}: saves {row['saving']:.0%}, below the {TARGET_SAVING:.0%} target")
    noisy = [row for row in rows if str(row["card"]).startswith("noisy/")]
    total_before = sum(row["prompt_tokens"][0] for row in noisy)
    total_after = sum(row["prompt_tokens"][1] for row in noisy)
    print(f"\nnoisy cards: {total_before} → {total_after} prompt tokens ({1 - total_after / total_before:.0%} fewer)")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
