import logging
import threading
import time
from typing import Any, Iterator

import pytest
import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from coach.errors import PromptError
from coach.llm.fake_chat import RecordingFakeChat
from coach.llm.phrasing import Phraser, split_sentences
from coach.llm.prompts import PromptLibrary
from tests.conftest import ROOT

FALLBACK = "Tell me how you would detect drift in production."
TWO_SENTENCES = "Drift detection needs a baseline window. Compare live features against it daily."


class ScriptedChat(BaseChatModel):
    """Streams scripted steps: (seconds to wait, text to send or exception to raise)."""

    steps: list[tuple[float, Any]]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        for wait, item in self.steps:
            time.sleep(wait)
            if isinstance(item, BaseException):
                raise item
            yield ChatGenerationChunk(message=AIMessageChunk(content=item))

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return generate_from_stream(self._stream(messages))


@pytest.fixture
def library(tmp_path) -> PromptLibrary:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "say.yaml").write_text(yaml.safe_dump({
        "name": "say", "description": "test template", "variables": ["topic"],
        "system": "You are an interviewer.", "user": "Say something about {topic}.",
        "min_chars": 10, "max_chars": 200,
    }))
    return PromptLibrary(folder)


@pytest.fixture
def fake() -> RecordingFakeChat:
    return RecordingFakeChat()


def phrase(model, library, timeout_s=5.0, **kwargs) -> tuple[list[str], Phraser]:
    phraser = Phraser(model, library, timeout_s=timeout_s)
    pieces = list(phraser.stream("say", kwargs.pop("fallback", FALLBACK), topic="data drift", **kwargs))
    return pieces, phraser


def test_good_reply_is_released_sentence_by_sentence_and_the_prompt_recorded(fake, library):
    fake.enqueue(TWO_SENTENCES)
    pieces, phraser = phrase(fake, library)
    assert pieces == ["Drift detection needs a baseline window.", " Compare live features against it daily."]
    assert not phraser.last_fallback and phraser.last_reason is None
    [call] = fake.calls
    assert call[0].content == "You are an interviewer."
    assert call[1].content == "Say something about data drift."


def test_first_sentence_arrives_before_the_model_finishes(library):
    model = ScriptedChat(steps=[(0, "Drift detection needs a baseline "), (0, "window. "), (1.0, "Compare live"),
                                (0.5, " features against it daily.")])
    phraser = Phraser(model, library, timeout_s=5)
    start = time.monotonic()
    stream = phraser.stream("say", FALLBACK, topic="data drift")
    first = next(stream)
    first_at = time.monotonic() - start
    rest = list(stream)
    assert first == "Drift detection needs a baseline window."
    assert first_at < 0.8 <= time.monotonic() - start
    assert rest == [" Compare live features against it daily."]


def test_text_joins_the_pieces(fake, library):
    fake.enqueue(TWO_SENTENCES)
    assert Phraser(fake, library, 5).text("say", FALLBACK, topic="data drift") == TWO_SENTENCES


class WeirdError(Exception):
    pass


@pytest.mark.parametrize("error", [RuntimeError("boom"), WeirdError("odd"), ConnectionError("refused")])
def test_backend_error_falls_back_and_logs(fake, library, caplog, error):
    fake.fail_with = error
    with caplog.at_level(logging.WARNING, logger="coach.llm"):
        pieces, phraser = phrase(fake, library)
    assert pieces == [FALLBACK]
    assert phraser.last_fallback and type(error).__name__ in phraser.last_reason
    assert any(r.name == "coach.llm" and type(error).__name__ in r.getMessage() for r in caplog.records)


def test_timeout_falls_back_without_waiting_for_the_model(fake, library, caplog):
    fake.enqueue(TWO_SENTENCES)
    fake.delay_s = 2.0
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="coach.llm"):
        pieces, phraser = phrase(fake, library, timeout_s=0.3)
    assert time.monotonic() - start < 1.5
    assert pieces == [FALLBACK]
    assert phraser.last_fallback and "timeout" in phraser.last_reason
    assert "timeout" in caplog.text


def test_timeout_after_the_first_sentence_keeps_it(library):
    model = ScriptedChat(steps=[(0, TWO_SENTENCES.split(" Compare")[0] + " "), (2.0, "Compare live features.")])
    pieces, phraser = phrase(model, library, timeout_s=0.5)
    assert pieces == ["Drift detection needs a baseline window."]
    assert not phraser.last_fallback and phraser.last_reason.startswith("truncated: timeout")


def test_error_mid_stream_keeps_what_was_released(library):
    model = ScriptedChat(steps=[(0, "Drift detection needs a baseline window. "), (0, "Compare "),
                                (0, ValueError("connection reset"))])
    pieces, phraser = phrase(model, library)
    assert pieces == ["Drift detection needs a baseline window."]
    assert "ValueError" in phraser.last_reason and not phraser.last_fallback


def test_banned_phrase_leak_falls_back_case_insensitively(fake, library):
    fake.enqueue("Drift answers should Mention   PSI thresholds per feature.")
    pieces, phraser = phrase(fake, library, banned=["mention psi thresholds"])
    assert pieces == [FALLBACK]
    assert phraser.last_reason == "banned phrase"


def test_banned_phrase_in_a_later_sentence_truncates(fake, library):
    fake.enqueue("Drift detection needs a baseline window. The rubric wants PSI above 0.2 mentioned.")
    pieces, phraser = phrase(fake, library, banned=["rubric wants"], reference="PSI above 0.2")
    assert pieces == ["Drift detection needs a baseline window."]
    assert phraser.last_reason == "truncated: banned phrase"


def test_repetition_loop_falls_back(fake, library):
    fake.enqueue("We watch the drift and we watch the drift and we watch the drift and we watch the drift.")
    pieces, phraser = phrase(fake, library)
    assert pieces == [FALLBACK]
    assert "repetition" in phraser.last_reason


def test_repeated_sentence_later_truncates(fake, library):
    fake.enqueue("Drift detection needs a baseline window. Drift detection needs a baseline window.")
    pieces, phraser = phrase(fake, library)
    assert pieces == ["Drift detection needs a baseline window."]
    assert phraser.last_reason == "truncated: repeated sentence"


@pytest.mark.parametrize("reply, reason", [
    ("", "empty reply"),
    ("   ", "empty reply"),
    ("Drift.", "shorter than min_chars"),
    ("Bananas are a yellow tropical fruit.", "off topic"),
    ("Drift hits 42 percent of deployed models.", "number(s) not in the source: 42"),
    ("Drift " + "detection matters " * 30 + ".", "longer than max_chars"),
])
def test_unusable_first_block_falls_back(fake, library, reply, reason):
    fake.enqueue(reply)
    pieces, phraser = phrase(fake, library)
    assert pieces == [FALLBACK]
    assert phraser.last_fallback and reason in phraser.last_reason


def test_too_long_later_stops_at_max_chars(fake, library):
    fake.enqueue("Drift detection needs a baseline window. " + "Then compare every single feature " * 10 + ".")
    pieces, phraser = phrase(fake, library)
    assert pieces == ["Drift detection needs a baseline window."]
    assert "max_chars" in phraser.last_reason


def test_numbers_from_the_source_are_allowed(fake, library):
    fake.enqueue("Alert on data drift when PSI is above 0.2 for a feature.")
    pieces, phraser = phrase(fake, library, reference="PSI above 0.2 means drift")
    assert "".join(pieces) == "Alert on data drift when PSI is above 0.2 for a feature."


def test_list_markers_stay_with_their_sentence():
    done, rest = split_sentences("Check drift. 1. Use PSI. - 2.")
    assert done == ["Check drift.", "1. Use PSI."]
    assert rest.strip() == "- 2."


def test_probe_template_requires_a_question_and_stops_at_two_sentences(fake):
    lib = PromptLibrary(ROOT / "prompts")
    phraser = Phraser(fake, lib, 5)
    variables = dict(question="Design a fraud detection system.", probe="How would you detect data drift?",
                     candidate_excerpt="I would train a gradient boosted model.")
    fake.enqueue("You should monitor data drift with PSI on every feature.")
    assert phraser.text("probe", FALLBACK, **variables) == FALLBACK
    assert phraser.last_reason == "no question asked"
    fake.enqueue("Good start on the model. How would you detect data drift? And then? What else would you add?")
    assert phraser.text("probe", FALLBACK, **variables) == "Good start on the model. How would you detect data drift?"
    assert not phraser.last_fallback and phraser.last_reason is None


def test_critique_intro_must_mention_the_score_and_stay_grounded(fake):
    phraser = Phraser(fake, PromptLibrary(ROOT / "prompts"), 5)
    variables = dict(question="Design a search ranking system.", score=35, band="needs work",
                     strengths=["data collection"], gaps=["offline evaluation", "serving latency"])
    fallback = "You scored 35 (needs work): good data collection, but offline evaluation was missing."
    fake.enqueue("The search ranking system is designed to rank products for users.")
    assert phraser.text("critique_intro", fallback, **variables) == fallback
    assert "does not mention 35" in phraser.last_reason
    fake.enqueue("You scored 35, a needs work answer with good data collection. Offline evaluation was missing.")
    assert phraser.text("critique_intro", fallback, **variables).startswith("You scored 35")
    assert not phraser.last_fallback


def test_clarify_ungrounded_answer_falls_back(fake):
    phraser = Phraser(fake, PromptLibrary(ROOT / "prompts"), 5)
    variables = dict(question="Design a fraud detection system.", context_facts="10 million transactions per day.",
                     candidate_question="Which cloud provider do we use?")
    fallback = "That is not specified; state your assumption."
    fake.enqueue("Cloud providers like Amazon, Azure and Google are ideal for scalable infrastructure.")
    assert phraser.text("clarify", fallback, **variables) == fallback
    assert "not grounded" in phraser.last_reason


def test_template_errors_raise_instead_of_falling_back(fake, library):
    phraser = Phraser(fake, library, 5)
    with pytest.raises(PromptError, match="missing variable.*topic"):
        phraser.stream("say", FALLBACK)
    with pytest.raises(PromptError, match="unknown prompt"):
        phraser.stream("nope", FALLBACK)
    assert fake.calls == []


def test_closing_the_stream_early_stops_the_worker(library):
    model = ScriptedChat(steps=[(0, "Drift detection needs a baseline window. ")] + [(0.05, "more ")] * 100)
    phraser = Phraser(model, library, 10)
    before = set(threading.enumerate())
    stream = phraser.stream("say", FALLBACK, topic="data drift")
    assert next(stream) == "Drift detection needs a baseline window."
    [worker] = [t for t in threading.enumerate() if t not in before and t.name == "phraser-say"]
    stream.close()  # the caller went away; the worker sees the cancel flag at its next chunk
    worker.join(timeout=2)
    assert not worker.is_alive()


def test_model_calls_share_a_limit_and_a_queued_call_gets_the_template_at_once(library):
    """One slow backend must not stall everyone: beyond the limit a call answers with the template."""
    gate = threading.BoundedSemaphore(1)
    slow = ScriptedChat(steps=[(1.5, TWO_SENTENCES)])
    first = Phraser(slow, library, timeout_s=10, gate=gate)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.setdefault("text", first.text("say", FALLBACK, topic="data drift")))
    worker.start()
    time.sleep(0.3)  # the first call holds the only model slot
    second = Phraser(RecordingFakeChat(replies=[TWO_SENTENCES]), library, timeout_s=10, gate=gate)
    started = time.monotonic()
    assert second.text("say", FALLBACK, topic="data drift") == FALLBACK
    assert time.monotonic() - started < 0.5
    assert second.last_fallback and "busy" in second.last_reason
    assert second.chat_model.calls == [], "the queued call never reached the model"
    worker.join(10)
    assert result["text"] == TWO_SENTENCES
    third = Phraser(RecordingFakeChat(replies=[TWO_SENTENCES]), library, timeout_s=10, gate=gate)
    assert third.text("say", FALLBACK, topic="data drift") == TWO_SENTENCES  # the slot was given back
