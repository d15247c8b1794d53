"""The results cache: finished Decompositions in SQLite, keyed by everything that changes an answer."""

from decompose.store.cache import CacheEntry, CacheStats, ModelUsage, Store
from decompose.store.keys import CacheKey, default_cache_path

__all__ = ["CacheEntry", "CacheKey", "CacheStats", "ModelUsage", "Store", "default_cache_path"]
