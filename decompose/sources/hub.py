"""Fetch a model or dataset card and its metadata from a Hugging Face hub through `huggingface_hub`.

`HF_ENDPOINT` and `HF_TOKEN` are read when a card is fetched, not at import (huggingface_hub reads
`HF_ENDPOINT` only once, at its own import), and passed explicitly, so a test or a service can point
at another hub at any time. Only `HF_TOKEN` is used: a token saved by `hf auth login` is not picked up
implicitly, so what is sent never depends on the machine. The README is downloaded into a temporary
directory rather than the shared hub cache: that cache is not keyed by endpoint, and a card must
reflect the hub as it is now.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    from huggingface_hub.hf_api import DatasetInfo, ModelInfo

from decompose.errors import AccessDenied, DecomposeError, SourceNotFound
from decompose.sources.refs import HubRef
from decompose.sources.text import MAX_CARD_BYTES, check_size, decode_card, one_line

DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class HubCard:
    text: str
    metadata: dict[str, Any]


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def fetch_hub_card(ref: HubRef, *, timeout: float, max_bytes: int = MAX_CARD_BYTES) -> HubCard:
    """Read the repo's info, then its README.md; every hub failure becomes a one-line DecomposeError.

    huggingface_hub is imported here, not at module import: runs that never touch the hub (local
    cards, cached results) start ~0.2 s sooner."""
    from huggingface_hub.errors import EntryNotFoundError

    endpoint = hub_endpoint()
    token: str | bool = os.environ.get("HF_TOKEN") or False
    try:
        info = _repo_info(ref, endpoint=endpoint, token=token, timeout=timeout)
        data = _download_readme(ref, endpoint=endpoint, token=token, timeout=timeout, max_bytes=max_bytes)
    except (OSError, httpx2.HTTPError, EntryNotFoundError) as error:
        raise _translate(error, ref, endpoint=endpoint, has_token=bool(token)) from None
    return HubCard(decode_card(data, f"the card of {ref.kind} {ref.repo_id}", max_bytes), hub_metadata(info))


def _repo_info(ref: HubRef, *, endpoint: str, token: str | bool, timeout: float) -> ModelInfo | DatasetInfo:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    if ref.kind == "dataset":
        return api.dataset_info(ref.repo_id, timeout=timeout)
    return api.model_info(ref.repo_id, timeout=timeout)


def _download_readme(ref: HubRef, *, endpoint: str, token: str | bool, timeout: float, max_bytes: int) -> bytes:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    what = f"the card of {ref.kind} {ref.repo_id}"
    url = hf_hub_url(ref.repo_id, "README.md", repo_type=ref.kind, endpoint=endpoint)
    announced = get_hf_file_metadata(url, token=token, timeout=timeout, endpoint=endpoint).size
    if announced is not None:
        check_size(announced, what, max_bytes)  # refuse before downloading, not after
    with tempfile.TemporaryDirectory(prefix="decompose-hub-") as directory:
        path = Path(
            hf_hub_download(
                ref.repo_id,
                "README.md",
                repo_type=ref.kind,
                endpoint=endpoint,
                token=token,
                local_dir=directory,
                etag_timeout=timeout,
            )
        )
        check_size(path.stat().st_size, what, max_bytes)
        return path.read_bytes()


def hub_metadata(info: ModelInfo | DatasetInfo) -> dict[str, Any]:
    """The hub facts scores are built from; a fact the hub did not give is left out, not zeroed."""
    card_data = info.card_data
    license_value = card_data.get("license") if card_data is not None else None
    if license_value is None:
        license_value = next(
            (tag.removeprefix("license:") for tag in info.tags or () if tag.startswith("license:")), None
        )
    facts: dict[str, Any] = {
        "downloads": info.downloads,
        "likes": info.likes,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
        "gated": info.gated,
        "license": license_value,
        "pipeline_tag": getattr(info, "pipeline_tag", None),
        "library_name": getattr(info, "library_name", None),
    }
    return {key: value for key, value in facts.items() if value is not None}


def _translate(error: Exception, ref: HubRef, *, endpoint: str, has_token: bool) -> DecomposeError:
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    what = f"{ref.kind} {ref.repo_id}"
    if isinstance(error, GatedRepoError):
        if has_token:
            return AccessDenied(
                f"{what} is gated and HF_TOKEN has no access: accept its terms at {ref.url} with that account"
            )
        return AccessDenied(f"{what} is gated: set HF_TOKEN to a token that has accepted its terms")
    if isinstance(error, RepositoryNotFoundError):
        hint = "" if has_token else " (if it is private, set HF_TOKEN)"
        return SourceNotFound(f"{what} not found on the hub at {endpoint}; check the id{hint}")
    if isinstance(error, EntryNotFoundError):
        return SourceNotFound(f"{what} on the hub at {endpoint} has no README.md, so there is no card to read")
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        status = error.response.status_code
        if status in (401, 403):
            fix = "check that HF_TOKEN is valid and can read it" if has_token else "set HF_TOKEN to a token that can read it"
            return AccessDenied(f"the hub at {endpoint} refused access to {what} ({status}): {fix}")
        if status == 404:
            return SourceNotFound(f"{what} not found on the hub at {endpoint}; check the id")
        return SourceNotFound(f"the hub at {endpoint} answered {status} for {what}; try again later")
    if isinstance(error, OfflineModeIsEnabled):
        return SourceNotFound(f"cannot fetch {what}: HF_HUB_OFFLINE is set; unset it to reach the hub at {endpoint}")
    cause = one_line(error.__cause__ or error)
    return SourceNotFound(f"cannot reach the hub at {endpoint} for {what} ({cause}); check HF_ENDPOINT and the network")

