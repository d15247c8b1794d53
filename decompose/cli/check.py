"""`decompose check`: re-check records made by any tool against a card."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Annotated, Optional

import typer

from decompose.checker import CheckReport, check_file
from decompose.cli.common import OutOption, SourceOptions, emit, examples, reported_errors, with_options
from decompose.errors import InputError

CHECK_EXAMPLES = examples(
    "`decompose card Qwen/Qwen3-Embedding-4B -f json -o qwen.json`",
    "`decompose check qwen.json --source Qwen/Qwen3-Embedding-4B`",
    "`decompose check claims.json --source fixtures/cards/qwen3-embedding-4b.md --subject Qwen3-Embedding-4B`",
    "`decompose check stack.json -s https://huggingface.co/datasets/bigcode/the-stack-v2 -f json -o checked.json`",
    "`cat records.json | decompose check - --source card.md`",
    "`decompose check records.json -s http://10.0.0.5/card.md --allow-private-urls --max-bytes 500000`",
    "Exit code: 0 when no record is ungrounded, 1 when any is, 2 for bad input.",
)
CHECK_FORMATS = ("text", "json")


@with_options(SourceOptions)
def check(
    records: Annotated[
        str,
        typer.Argument(
            help="JSON file of records: a Decomposition (`card -f json`), an object with a 'capabilities' list, "
            "or a list of records with name, description, unique and evidence; '-' reads stdin.",
            show_default=False,
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="The card to check against: a local file, '-', a Hugging Face repo id or URL, a GitHub "
            "repository URL, or any http(s) URL.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text (a verdict per record) or json (the re-checked records).")
    ] = "text",
    subject: Annotated[
        Optional[str],
        typer.Option(
            "--subject",
            help="Name of the artifact the records describe "
            "[default: the Decomposition's artifact, else the card's name].",
        ),
    ] = None,
    out: OutOption = None,
    timeout: Annotated[
        Optional[float],
        typer.Option("--timeout", min=0.1, hidden=True, help="The former name of --fetch-timeout."),
    ] = None,
    *,
    options: SourceOptions,
) -> None:
    """Re-check capability records against a card and print each record's verdict and problems.

    Every quote is located in the card (exactly, normalised or approximately), attributed to the
    artifact its passage speaks about, and every number a record states must appear in a quote about
    this artifact. Exits 1 when any record is ungrounded.
    """
    with reported_errors():
        if fmt not in CHECK_FORMATS:
            raise InputError(f"unknown format {fmt!r}: use text or json")
        report = check_file(
            records,
            source,
            subject=subject,
            stdin=sys.stdin.buffer,
            timeout=options.fetch_timeout if timeout is None else timeout,
            max_bytes=options.max_bytes,
            allow_private_urls=options.allow_private_urls,
        )
        for note in report.notes:
            typer.echo(f"decompose: note: {note}", err=True)
        text = render_json(report) if fmt == "json" else render_text(report, source)
        emit(text, out)
    if report.any_ungrounded:
        raise typer.Exit(1)


def render_json(report: CheckReport) -> str:
    return json.dumps(report.document, indent=2, ensure_ascii=False) + "\n"


def render_text(report: CheckReport, source: str) -> str:
    """One block per record: the verdict and name, then its problems indented."""
    lines = [f"Checked {len(report.records)} records against {source} (about {report.subject}):", ""]
    for record in report.records:
        lines.append(f"{record.verdict:<10}  {record.name}")
        lines.extend(f"            - {problem}" for problem in record.problems)
    counts = Counter(record.verdict for record in report.records)
    lines += [
        "",
        f"{len(report.records)} records: {counts['grounded']} grounded, {counts['partial']} partial, "
        f"{counts['ungrounded']} ungrounded.",
    ]
    return "\n".join(lines) + "\n"
