"""The same ingest and retrieval against a real `chroma run` server."""

import pytest

from coach.core import Coach
from coach.settings import load_settings
from tests.conftest import write_config

pytestmark = pytest.mark.server


def test_ingest_and_retrieve_through_server(tmp_path, knowledge, chroma_server, embeddings):
    cfg = write_config(tmp_path, knowledge, vector_store={"host": chroma_server["host"], "port": chroma_server["port"]})
    coach = Coach(load_settings(cfg, env={}))
    coach.__dict__["embeddings"] = embeddings
    first = coach.ingest()
    assert first.chunks_total == first.embedded > 0
    again = coach.ingest()
    assert again.embedded == 0 and again.chunks_total == first.chunks_total
    hits = coach.retrieve("how many weeks pass before we find out whether a prediction was right", k=3)
    assert hits[0].section_id == "fx-labels"
    assert not (tmp_path / "data" / "chroma").exists(), "server mode must not write a local index"


def _bounded(call, seconds: float):
    """Run ``call`` in a thread; (finished, exception) after at most ``seconds``."""
    import threading

    box: dict = {}

    def run():
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            box["exc"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), box.get("exc")


def test_frozen_or_killed_server_gives_the_unreachable_message_within_the_timeout(
        tmp_path, knowledge, chroma_server, embeddings):
    import os
    import signal
    import time

    from coach.errors import StoreUnavailableError

    vs = {"host": chroma_server["host"], "port": chroma_server["port"], "timeout_s": 1.0}
    cfg = write_config(tmp_path, knowledge, vector_store=vs)
    coach = Coach(load_settings(cfg, env={}))
    coach.__dict__["embeddings"] = embeddings
    coach.ingest()
    assert coach.retrieve("canary release", k=1)
    os.kill(chroma_server["pid"], signal.SIGSTOP)
    try:
        fresh = Coach(load_settings(cfg, env={}))
        fresh.__dict__["embeddings"] = embeddings
        for call in (lambda: coach.retrieve("canary release", k=1), lambda: fresh.retrieve("canary release", k=1)):
            started = time.monotonic()
            finished, exc = _bounded(call, 30)
            assert finished, "a frozen Chroma server must not hang a retrieve"
            assert isinstance(exc, StoreUnavailableError), repr(exc)
            assert "cannot reach the Chroma server" in str(exc)
            assert time.monotonic() - started < 15
    finally:
        os.kill(chroma_server["pid"], signal.SIGCONT)
    assert coach.retrieve("canary release", k=1)
    os.kill(chroma_server["pid"], signal.SIGKILL)
    time.sleep(0.5)
    finished, exc = _bounded(lambda: coach.retrieve("canary release", k=1), 30)
    assert finished and isinstance(exc, StoreUnavailableError), repr(exc)
    assert "cannot reach the Chroma server" in str(exc) and "ConnectError" not in str(exc).split("(")[0]
