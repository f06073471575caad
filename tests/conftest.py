"""Shared fixtures: real embedding model, real Chroma (folder and `chroma run`), real PostgreSQL, temp folders.

Every test gets its own data folder, so nothing touches the developer's `.coach/` index.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_KNOWLEDGE = ROOT / "tests" / "fixtures" / "knowledge"
# One ONNX export per machine, shared by every test and CLI subprocess (its folder name holds a
# digest of the weights, so it is never stale).
MODELS_DIR = Path(tempfile.gettempdir()) / "coach-test-models"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No COACH_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("COACH_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embeddings():
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    from coach.search.embeddings import LocalEmbeddings

    emb = LocalEmbeddings(cache_dir=MODELS_DIR)
    emb.encode(["warm up"])
    return emb


@pytest.fixture
def knowledge(tmp_path) -> Path:
    """A private copy of the small fixture guide that tests may edit."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    return target


def write_config(folder: Path, knowledge: Path, **sections) -> Path:
    import yaml

    data = {"paths": {"knowledge_dir": str(knowledge), "data_dir": str(folder / "data"),
                      "prompts_dir": str(ROOT / "prompts")},
            "embeddings": {"onnx_dir": str(MODELS_DIR)}}
    for key, value in sections.items():
        data[key] = value
    path = folder / "coach.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path, knowledge) -> Path:
    return write_config(tmp_path, knowledge, llm={"mode": "fake"})


@pytest.fixture
def settings(config):
    from coach.settings import load_settings

    return load_settings(config, env={})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1, stopped by its process id afterwards."""
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.fail(f"the chroma CLI is missing next to {sys.executable}")
    port = free_port()
    log = open(tmp_path / "chroma-server.log", "wb")
    proc = subprocess.Popen(
        [str(exe), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "server-data")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited early: {(tmp_path / 'chroma-server.log').read_text()[-500:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start listening within 60 s")
    yield {"host": "127.0.0.1", "port": port, "pid": proc.pid}
    os.kill(proc.pid, 15)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, 9)
    log.close()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL (the installed binaries) on 127.0.0.1 for the whole run, stopped at the end."""
    from tests.pg_support import BINARIES, PostgresServer, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        pytest.skip(f"PostgreSQL binaries ({', '.join(BINARIES)}) not found in /usr/local/bin or "
                    "/usr/lib/postgresql/*/bin: apt-get install postgresql to run the PostgreSQL store tests")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


def run_cli(*args: str, config: Path | None = None, env: dict | None = None, timeout: int = 300):
    """Run the real `coach` command in a subprocess (exit code, stdout, stderr)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "coach.cli"]
    if config is not None:
        cmd += ["--config", str(config)]
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, env=full_env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="session")
def real_coach(tmp_path_factory, embeddings):
    """A Coach over the real guide and question bank, ingested once per test run."""
    from coach.core import Coach
    from coach.settings import load_settings

    folder = tmp_path_factory.mktemp("real")
    cfg = write_config(folder, ROOT / "knowledge", llm={"mode": "fake"})
    coach = Coach(load_settings(cfg, env={}))
    coach.__dict__["embeddings"] = embeddings
    coach.ingest()
    return coach
