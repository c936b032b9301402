"""Reaching the Hugging Face hub: fail in milliseconds, with instructions, when it cannot be reached.

Without this check, ``from_pretrained`` and ``load_dataset`` on an unreachable hub retry for about
45 seconds before raising an error that does not say how to work offline. Loading itself stays with
transformers and datasets (:mod:`nerperf.models.checkpoints`, :mod:`nerperf.data.conll`).
"""

from __future__ import annotations

import os
import re
import socket
import time
from urllib.parse import urlsplit

from nerperf.errors import NerperfInputError

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 3.0
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class HubUnreachable(NerperfInputError, OSError):
    """The hub is needed for an id but cannot be reached (or offline mode forbids it)."""


def looks_like_hub_id(name: str) -> bool:
    """``owner/name`` or ``name``; paths such as ``./x``, ``../x`` or ``a/b/c`` are not hub ids.

    >>> looks_like_hub_id("dslim/bert-base-NER"), looks_like_hub_id("../shared/models/x")
    (True, False)
    """
    return bool(_HUB_ID.match(name)) and ".." not in name


def offline_mode() -> bool:
    """``HF_HUB_OFFLINE`` set to a true value: the user asked for the local cache only."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


FAILED_PROBE_TTL_S = 30.0  # a failed probe is believed this long, then the hub is probed again
_reachable: set[tuple[str, int]] = set()  # hosts a connection opened to: reachable for the whole process
_failed: dict[tuple[str, int], tuple[float, str]] = {}  # host -> when and why the last probe failed


def _probe(host: str, port: int) -> str | None:
    """Why a TCP connection to the hub fails, or None. Success is remembered for the process; a failure
    only for :data:`FAILED_PROBE_TTL_S`: a long pytest session must neither keep a passing outage forever
    nor wait a timeout per checkpoint while it lasts."""
    key = (host, port)
    if key in _reachable:
        return None
    last = _failed.get(key)
    if last is not None and time.monotonic() - last[0] < FAILED_PROBE_TTL_S:
        return last[1]
    try:
        with socket.create_connection(key, timeout=PROBE_TIMEOUT_S):
            _reachable.add(key)
            _failed.pop(key, None)
            return None
    except OSError as error:
        why = f"{host}:{port}: {error}"
        _failed[key] = (time.monotonic(), why)
        return why


def unreachable_reason() -> str | None:
    """Why the hub cannot be reached, or ``None`` when a TCP connection to it opens."""
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    return _probe(host, port)


def require_hub(what: str, local_hint: str) -> None:
    """Raise :class:`HubUnreachable` naming ``what`` and how to use local files instead.

    In offline mode the caller's loader reads the cache itself (and fails fast), so nothing is probed.
    """
    if offline_mode():
        return
    reason = unreachable_reason()
    if reason is not None:
        raise HubUnreachable(
            f"{what} is a hub id, but the Hugging Face hub cannot be reached ({reason}). "
            f"{local_hint} If it is already in your Hugging Face cache, set HF_HUB_OFFLINE=1."
        )
