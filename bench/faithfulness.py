"""How many planted errors does grounding catch, and how many faithful claims does it wrongly flag?

Runs every labelled claim of bench/claims.json through the same library path as `decompose check`
(the record against its fixture card, the subject being the card's name) and counts, per label:

- a planted error is *caught* when its record comes out `ungrounded` (what `decompose check` exits 1
  on and what pages never show as fact);
- a faithful claim is *wrongly flagged* when it comes out `ungrounded`.

`partial` verdicts are counted separately in both groups: the record is shown, with its problems.

    python bench/faithfulness.py                               # the summary table (Markdown)
    python bench/faithfulness.py --cards fixtures/cards/noisy  # the same claims on the noisy cards
    python bench/faithfulness.py --verbose                     # plus every claim's verdict and problems
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import ValidationError

from decompose.checker import CheckedRecord, RecordSet, check_records
from decompose.records import CapabilityDraft
from decompose.sources import load_card

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "bench" / "claims.json"
CARDS = ROOT / "fixtures" / "cards"
FAITHFUL = "faithful"
TARGET_CAUGHT, TARGET_WRONGLY_FLAGGED = 0.90, 0.05


def run(claims_path: Path, cards: Path = CARDS) -> list[tuple[dict, CheckedRecord]]:
    """Check every claim against its card (by file name in `cards`); claims of one card share one index."""
    claims = json.loads(claims_path.read_text(encoding="utf-8"))["claims"]
    by_card: dict[str, list[dict]] = defaultdict(list)
    for claim in claims:
        try:
            CapabilityDraft.model_validate(claim["record"])  # every claim is in the LLM answer's shape
        except ValidationError as error:
            raise SystemExit(f"claim {claim['id']} is not in the answer's shape: {error}") from None
        by_card[claim["card"]].append(claim)
    results = []
    for card_name, card_claims in by_card.items():
        card = load_card(str(cards / card_name))
        report = check_records(RecordSet(str(claims_path), [claim["record"] for claim in card_claims]), card)
        results += list(zip(card_claims, report.records))
    return results


def summary(results: list[tuple[dict, CheckedRecord]]) -> tuple[str, bool]:
    """The Markdown table, and whether both targets are met."""
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    for claim, checked in results:
        verdicts[claim["label"]][checked.verdict] += 1
    lines = [
        "| claims | n | flagged ungrounded | partial | grounded |",
        "|---|---|---|---|---|",
    ]
    errors = Counter[str]()
    for label in sorted(verdicts, key=lambda item: (item == FAITHFUL, item)):
        counts = verdicts[label]
        total = sum(counts.values())
        if label != FAITHFUL:
            errors.update(counts)
        lines.append(
            f"| {label} | {total} | {counts['ungrounded']} ({counts['ungrounded'] / total:.0%}) | "
            f"{counts['partial']} | {counts['grounded']} |"
        )
    error_total = sum(errors.values())
    caught = errors["ungrounded"] / error_total
    faithful = verdicts[FAITHFUL]
    wrongly = faithful["ungrounded"] / sum(faithful.values())
    lines.insert(2, f"| **all planted errors** | {error_total} | {errors['ungrounded']} ({caught:.0%}) | "
                    f"{errors['partial']} | {errors['grounded']} |")
    met = caught >= TARGET_CAUGHT and wrongly <= TARGET_WRONGLY_FLAGGED
    matches = Counter(evidence["match"] for _, checked in results for evidence in checked.record["evidence"])
    lines += [
        "",
        "Quotes located: " + ", ".join(f"{matches[kind]} {kind}" for kind in ("exact", "normalized", "fuzzy", "none"))
        + ".",
        f"Errors caught: {caught:.0%} (target ≥ {TARGET_CAUGHT:.0%}); faithful claims wrongly flagged: "
        f"{wrongly:.0%} (target ≤ {TARGET_WRONGLY_FLAGGED:.0%}); {'targets met' if met else 'TARGETS MISSED'}.",
    ]
    return "\n".join(lines) + "\n", met


def details(results: list[tuple[dict, CheckedRecord]]) -> str:
    lines = []
    for claim, checked in results:
        lines.append(f"{checked.verdict:<10}  [{claim['label']}] {claim['id']}")
        lines.extend(f"            - {problem}" for problem in checked.problems)
    return "\n".join(lines) + "\n\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=Path, default=CLAIMS, help="labelled claims file [default: bench/claims.json]")
    parser.add_argument("--cards", type=Path, default=CARDS, help="folder of the cards [default: fixtures/cards]")
    parser.add_argument("--verbose", action="store_true", help="print every claim's verdict and problems")
    arguments = parser.parse_args()
    results = run(arguments.claims, arguments.cards)
    table, met = summary(results)
    sys.stdout.write((details(results) if arguments.verbose else "") + table)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
