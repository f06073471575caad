"""A chromadb HTTP client whose every request is bounded by ``vector_store.timeout_s``.

chromadb's HTTP client builds its ``httpx.Client`` with ``timeout=None`` and already talks to the
server while it is being built (tenant and database checks), so a server that accepts connections
but never answers (stopped with SIGSTOP, swapped out, wedged) would hang the caller for ever.
The client is therefore built in a helper thread the caller waits for at most ``timeout_s``, and
its session then gets that timeout for every later request.
"""

from __future__ import annotations

import threading
from typing import Any


class ServerTimeout(TimeoutError):
    """The server did not answer within the timeout while the client was being built."""


def http_client(host: str, port: int, chroma_settings: Any, timeout_s: float) -> Any:
    """``chromadb.HttpClient`` built within ``timeout_s``, its requests bounded by ``timeout_s``."""
    import chromadb
    import httpx

    box: dict[str, Any] = {}

    def build() -> None:
        try:
            box["client"] = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            box["error"] = exc

    # A daemon thread: if the server never answers, it must not keep the process alive.
    worker = threading.Thread(target=build, name=f"chroma-connect-{host}:{port}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise ServerTimeout(f"no answer within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]
    client = box["client"]
    client._server._session.timeout = httpx.Timeout(timeout_s)
    return client
