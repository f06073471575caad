"""The web app through its HTTP API (gradio_client): the real guide and grader, the fake chat model."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.ui_support import PROBE_ANSWER, coach_like, message_text, running_app

# Outputs of practice_start / practice_send / practice_done / practice_resume, in order (State is not sent).
CHAT, INFO, CARD, DOWNLOAD, SESSION = range(5)


@pytest.fixture(scope="module")
def coach(real_coach, tmp_path_factory):
    return coach_like(real_coach, tmp_path_factory.mktemp("ui-api"))


@pytest.fixture(scope="module")
def url(coach):
    with running_app(coach) as address:
        yield address


@pytest.fixture
def client(url):
    """A new client is a new browser session: its own gr.State."""
    return Client(url, verbose=False)


def test_api_lists_the_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/practice_start", "/practice_send", "/practice_done", "/practice_resume", "/ask", "/assess",
            "/progress", "/report", "/guide_section"} <= names


def test_practice_session_probe_critique_and_report(client, coach):
    out = client.predict("monitoring", "junior", False, api_name="/practice_start")
    chat, sid = out[CHAT], out[SESSION]
    assert len(chat) == 1 and chat[0]["role"] == "assistant"
    view = coach.engine.view(sid)
    assert view.topic == "monitoring" and view.level == "junior"
    assert view.question in message_text(chat[0])
    assert sid in out[INFO] and "8 follow-up(s) left" in out[INFO]

    out = client.predict(PROBE_ANSWER, api_name="/practice_send")
    chat = out[CHAT]
    assert [m["role"] for m in chat] == ["assistant", "user", "assistant"]
    assert message_text(chat[1]) == PROBE_ANSWER
    question = coach.bank.get(view.question_id)
    authored = [p.probe for p in question.rubric] + [f for p in question.rubric for f in p.follow_ups]
    authored += [f.challenge for f in question.red_flags] + [m.challenge for m in question.misconceptions]
    # the fake model answers "", so the authored follow-up is used, after one line quoting the candidate
    assert message_text(chat[2]).strip().endswith(tuple(" ".join(a.split()) for a in authored))
    assert "7 follow-up(s) left" in out[INFO]

    # an answer can be a diagram: its arrows are read as sentences and it shows in the critique
    out = client.predict("", "flowchart LR\n  A[Stream] -->|feature values| B[(Feature store)]",
                         api_name="/practice_send")
    assert "6 follow-up(s) left" in out[INFO]
    assert coach.engine.view(sid).diagram.startswith("flowchart LR")

    out = client.predict(api_name="/practice_done")
    assert out[CARD].startswith("### Critique — ")
    assert "| Dimension | Score | Points |" in out[CARD] and "**Missed**" in out[CARD]
    assert "Coach's summary" in message_text(out[CHAT][-1]) and "**Your diagram**" in out[CARD]
    report = Path(out[DOWNLOAD]).read_text(encoding="utf-8")
    assert report.startswith(f"# Practice report — {view.question_id}")
    assert sid in report and "(practice, done)" in report and PROBE_ANSWER in report and "## Critique" in report
    assert coach.store.get_session(sid).status == "done"

    with pytest.raises(AppError, match="has ended; start a new one"):
        client.predict("one more thing", api_name="/practice_send")

    # resuming from another browser session shows the stored transcript and the critique card
    other = Client(client.src, verbose=False)
    out = other.predict(sid, api_name="/practice_resume")
    assert out[SESSION] == sid and out[CARD].startswith("### Critique — ")
    assert PROBE_ANSWER in [message_text(m) for m in out[CHAT]]

    report = Path(client.predict(sid, api_name="/report")).read_text(encoding="utf-8")
    assert sid in report and "## Citations" in report


def test_practice_errors_are_short_messages(client, coach):
    with pytest.raises(AppError, match="Press Start"):
        client.predict("an answer without a session", api_name="/practice_send")
    client.predict("any", "any", False, api_name="/practice_start")
    limit = coach.settings.server.max_input_chars
    with pytest.raises(AppError, match=f"the limit is {limit:,} characters"):
        client.predict("x" * (limit + 1), api_name="/practice_send")
    with pytest.raises(AppError, match="not in the list of choices"):  # the dropdown checks it
        client.predict("cooking", "any", False, api_name="/practice_start")
    with pytest.raises(AppError) as err:
        client.predict("no-such-session", api_name="/practice_resume")
    assert "Traceback" not in str(err.value) and "no-such-session" in str(err.value)


def test_two_clients_have_separate_sessions(url, coach):
    first, second = Client(url, verbose=False), Client(url, verbose=False)
    sid_a = first.predict("architectures", "any", False, api_name="/practice_start")[SESSION]
    sid_b = second.predict("lifecycle", "any", False, api_name="/practice_start")[SESSION]
    assert sid_a != sid_b
    chat_a = first.predict(PROBE_ANSWER, api_name="/practice_send")[CHAT]
    assert PROBE_ANSWER in [message_text(m) for m in chat_a]
    turns_b = coach.engine.view(sid_b).transcript
    assert [kind for _, kind, _ in turns_b] == ["question"]


def test_ask_answers_with_citations(client):
    chat, box = client.predict("How do I detect concept drift when labels arrive late?", "any", [],
                               api_name="/ask")
    assert box == ""
    answer = message_text(chat[-1])
    assert "[1]" in answer and "<details><summary>Sources (" in answer and "`knowledge/monitoring/" in answer


def test_ask_says_when_the_guide_does_not_cover_it(client):
    chat, _ = client.predict("What is the best pizza topping in Naples?", "any", [], api_name="/ask")
    answer = message_text(chat[-1])
    assert answer.startswith("**Not covered by the guide.**") and "Nearest sections:" in answer


def test_self_assessment_compares_ratings(client, coach):
    dims = coach.bank.rubric.dimension_ids
    ratings = ["4"] * len(dims)  # "staff" everywhere: a short answer must show a calibration gap
    result = client.predict("mon-q01", "Covariate shift means P(X) changes while P(Y|X) stays the same.",
                            *ratings, api_name="/assess")
    assert result.startswith("### Self vs coach — ")
    assert "| Dimension | You | Coach | Gap |" in result and "Mean calibration gap:" in result
    assert "you rated yourself" in result and "higher than the coach" in result


def test_progress_has_a_plot_history_and_a_recommendation(client, coach):
    client.predict("mon-q01", "Concept drift means P(Y|X) changes; retrain on fresh labels.",
                   *([None] * len(coach.bank.rubric.dimension_ids)), api_name="/assess")
    plot, summary, next_md, table = client.predict(api_name="/progress")
    assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/png;base64,")
    assert "| monitoring |" in summary
    assert next_md.startswith("**Recommended next:**")
    assert table["headers"] == ["id", "when", "kind", "question", "status", "score"]
    assert any(row[2] == "self-assess" and row[3] == "mon-q01" for row in table["data"])


def test_guide_section_renders_body_and_sources(client, coach):
    _, first = client.predict("monitoring", api_name="/guide_topic")  # also offers that topic's sections
    assert first.startswith(f"`knowledge/{coach.guide.by_topic('monitoring')[0].source}`")
    body = client.predict("mon-shift-types", api_name="/guide_section")
    assert "# Types of shift" in body and "**Sources**" in body and "knowledge/monitoring/mon-shift-types.md" in body



def _raw_call(url: str, api_name: str, *data) -> str:
    """POST JSON as a browser or curl may send it (``\\ud800`` escapes), return the SSE text."""
    import json

    import httpx

    body = json.dumps({"data": list(data)}).encode("ascii")  # ensure_ascii keeps lone surrogates escaped
    base = url.rstrip("/") + "/gradio_api/call/" + api_name
    event = httpx.post(base, content=body, headers={"Content-Type": "application/json"}, timeout=60).json()
    return httpx.get(f"{base}/{event['event_id']}", timeout=120).text


def test_lone_surrogates_through_the_api_are_replaced_not_a_server_error(url):
    out = _raw_call(url, "ask", "How do I detect \ud800 concept drift?", "any", [])
    assert "event: complete" in out and "\\ufffd" in out.lower()
    out = _raw_call(url, "practice_resume", "bad-\ud800-id")
    assert "event: error" in out and "no session" in out and "Something went wrong" not in out


def test_assess_api_schema_and_accepted_ratings_agree(client, coach):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/assess"]
    rating = info["parameters"][2]
    allowed = rating["type"]["enum"]
    assert rating["type"]["type"] == "string" and allowed == ["1", "2", "3", "4"]
    dims = coach.bank.rubric.dimension_ids
    result = client.predict("mon-q01", "Covariate shift means P(X) changes while P(Y|X) stays the same.",
                            "2", *([None] * (len(dims) - 1)), api_name="/assess")
    assert result.startswith("### Self vs coach — ") and "ok" in result


OWN_QUESTION = ("a row on the phone's home screen that guesses which app the user opens next; before you touch a "
                "model, how do you set this up?")


def test_practice_and_self_assessment_take_a_question_the_candidate_typed(client, coach):
    out = client.predict(OWN_QUESTION, api_name="/practice_start_own")
    view = coach.engine.view(out[SESSION])
    assert view.question == OWN_QUESTION and view.question_id == "lc-q01"
    assert OWN_QUESTION in message_text(out[CHAT][0])
    assert "Graded against the bank question lc-q01" in out[INFO]
    with pytest.raises(AppError, match="Type your question first"):
        client.predict("  ", api_name="/practice_start_own")

    dims = coach.bank.rubric.dimension_ids
    result = client.predict(OWN_QUESTION, "I would rank the installed apps by how likely each is opened next, "
                            "because the row has four slots to fill.", *([None] * len(dims)), api_name="/assess")
    assert result.startswith("### Self vs coach — ") and "Graded against the bank question lc-q01" in result
