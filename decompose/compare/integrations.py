"""Which libraries and serving integrations a card names: the first half of the ecosystem score.

A fixed catalogue, matched as whole words in the card text, the `library_name` and the tags, so the
list on the page is reproducible and a missing library is a one-line addition here.
"""

from __future__ import annotations

import re
from typing import Any

from decompose.records import Card

FULL_INTEGRATIONS = 5
"""Naming this many integrations gets full credit."""


def _word(*aliases: str) -> re.Pattern[str]:
    """Whole-word match that treats `-` and `.` as part of a name (so "transformers" ≠ "sentence-transformers")."""
    joined = "|".join(aliases)
    return re.compile(rf"(?<![\w.-])(?:{joined})(?![\w-])", re.IGNORECASE)


CATALOGUE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Transformers", _word("transformers")),
    ("sentence-transformers", _word("sentence[-_ ]transformers", "SentenceTransformer")),
    ("Diffusers", _word("diffusers")),
    ("PEFT", _word("peft")),
    ("timm", _word("timm")),
    ("Datasets", _word(r"datasets(?=\s+import|\.load_dataset|\s+library)", "load_dataset", r"🤗 datasets")),
    ("vLLM", _word("vllm")),
    ("Text Embeddings Inference", _word("text[- ]embeddings[- ]inference")),
    ("Text Generation Inference", _word("text[- ]generation[- ]inference")),
    ("llama.cpp", _word(r"llama\.cpp", "llama-cpp")),
    ("GGUF", _word("gguf")),
    ("Ollama", _word("ollama")),
    ("MLX", _word("mlx")),
    ("ONNX", _word("onnx", "onnxruntime")),
    ("OpenVINO", _word("openvino")),
    ("TensorRT", _word("tensorrt", "tensorrt-llm")),
    ("Transformers.js", _word(r"transformers\.js")),
    ("PyTorch", _word("pytorch", "torch")),
    ("TensorFlow", _word("tensorflow")),
    ("JAX", _word("jax", "flax")),
    ("Keras", _word("keras")),
    ("spaCy", _word("spacy")),
    ("LangChain", _word("langchain")),
    ("LlamaIndex", _word("llamaindex", "llama_index", "llama-index")),
    ("Haystack", _word("haystack")),
    ("pandas", _word("pandas")),
    ("Polars", _word("polars")),
    ("DuckDB", _word("duckdb")),
    ("Apache Spark", _word("pyspark", "apache spark")),
)


def named_integrations(card: Card) -> list[str]:
    """Catalogue entries named in the card body, `library_name` or tags, in catalogue order."""
    haystack = "\n".join([card.text[card.body_start :], *_metadata_names(card.metadata)])
    return [name for name, pattern in CATALOGUE if pattern.search(haystack)]


def _metadata_names(metadata: dict[str, Any]) -> list[str]:
    tags = metadata.get("tags")
    names = [str(tag) for tag in tags] if isinstance(tags, list) else []
    library = metadata.get("library_name")
    return [str(library), *names] if library else names
