"""Cache keys: the identity of one answer, built from an explicit list of fields.

LangChain's cache never hit after a restart because an object id leaked into its key; here every
field is named, typed and canonicalised, and the same key object is used for lookup and store.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs


def default_cache_path() -> Path:
    """`$DECOMPOSE_CACHE` if set, else `cache.sqlite3` in the platform's user cache directory."""
    configured = os.environ.get("DECOMPOSE_CACHE")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_cache_path("decompose") / "cache.sqlite3"


def _canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, no NaN, and no `str()` fallback that could
    smuggle an object's id into a key."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class CacheKey:
    """The identity of one answer. Build it once and pass the same object to `get` and `put`."""

    fields: Mapping[str, Any] = field(compare=False)
    digest: str

    @classmethod
    def build(
        cls,
        *,
        card_digest: str,
        cleaning_version: str,
        endpoint: str,
        model: str,
        mode: str,
        prompt_version: str,
        schema_version: str,
        params: Mapping[str, Any],
    ) -> CacheKey:
        """Key from an explicit list of fields; `params` holds every generation parameter.

        Nothing implicit (object ids, defaults filled in later) may enter, or keys stop matching
        across runs; the fields are copied, so later changes to `params` cannot alter the key.
        """
        named = {
            "card_digest": card_digest,
            "cleaning_version": cleaning_version,
            "endpoint": endpoint,
            "model": model,
            "mode": mode,
            "prompt_version": prompt_version,
            "schema_version": schema_version,
        }
        for name, value in named.items():
            if not isinstance(value, str):
                raise TypeError(f"cache key field {name} must be a str, got {type(value).__name__}")
        if not isinstance(params, Mapping):
            raise TypeError(f"cache key field params must be a mapping, got {type(params).__name__}")
        canonical = _canonical_json({**named, "params": dict(params)})
        return cls(
            fields=MappingProxyType(json.loads(canonical)),
            digest=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        )

    def canonical_fields(self) -> str:
        """The fields as canonical JSON, as stored beside each row for inspection."""
        return _canonical_json(dict(self.fields))

