"""Batch runs: many sources, concurrently, resumable, with usage and cost accounting."""

from decompose.batch.output import JsonlFile, ResultSink, StreamSink
from decompose.batch.report import BatchReport, Failure, failures_text, summary_lines
from decompose.batch.run import CARDS_PER_REQUEST, DEFAULT_CONCURRENCY, Batch
from decompose.batch.sources import parse_source_list, read_source_list

__all__ = [
    "CARDS_PER_REQUEST",
    "DEFAULT_CONCURRENCY",
    "Batch",
    "BatchReport",
    "Failure",
    "JsonlFile",
    "ResultSink",
    "StreamSink",
    "failures_text",
    "parse_source_list",
    "read_source_list",
    "summary_lines",
]
