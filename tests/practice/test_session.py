"""Practice sessions end to end: fake model for the logic, the real embedded model once."""

import re

import pytest

from coach.core import Coach
from coach.errors import QueryError, SessionError
from coach.practice.engine import is_clarifying_question, is_done
from coach.practice.interviewer import WRAP_UP_QUESTION
from coach.settings import load_settings
from tests.conftest import ROOT, write_config


@pytest.fixture
def coach(tmp_path, real_coach):
    """A fresh store per test, sharing the real guide index and embeddings of the session."""
    cfg = write_config(tmp_path, ROOT / "knowledge", llm={"mode": "fake"},
                       vector_store={"path": str(real_coach.settings.chroma_path)})
    c = Coach(load_settings(cfg, env={}))
    c.__dict__["embeddings"] = real_coach.embeddings
    c.__dict__["guide"] = real_coach.guide
    c.__dict__["bank"] = real_coach.bank
    c.__dict__["grader"] = real_coach.grader
    return c


FRAUD_PARTIAL = ("I'd use a gradient boosted tree over velocity features such as how many cards one device used in "
                 "the last ten minutes, because fraud rings reuse devices and the data is tabular. Since only about "
                 "0.1% of payments are fraud I'd compare models on PR-AUC and recall at a fixed false positive rate "
                 "instead of accuracy.")


def test_classify_turns():
    assert is_done("done") and is_done("I'm done.") and not is_done("done with features, next is serving")
    assert is_clarifying_question("How many transactions per second do we need to handle?")
    assert is_clarifying_question("What is the latency budget?")
    assert not is_clarifying_question(FRAUD_PARTIAL)


def test_first_question_needs_no_llm(coach):
    view = coach.engine.start(topic="architectures", level="senior")
    assert view.question and view.topic == "architectures" and view.level == "senior"
    assert view.transcript == [("coach", "question", view.question)]
    assert coach.chat_model.calls == []


def test_the_posed_question_is_prepared_for_grading_while_the_candidate_types(coach):
    grader = coach.grader
    grader._prepared.pop("mon-q01", None)
    coach.engine.start(question_id="mon-q01")
    coach.engine._warm.submit(lambda: None).result(timeout=60)  # one worker: runs after the warm-up
    assert "mon-q01" in grader._prepared
    assert grader.grade("mon-q01", "I would compare feature distributions with PSI.").question_id == "mon-q01"


def _authored(question) -> set[str]:
    """Every text the interviewer may ask for this question."""
    texts = {p.probe for p in question.rubric} | {f for p in question.rubric for f in p.follow_ups}
    texts |= {f.challenge for f in question.red_flags} | {m.challenge for m in question.misconceptions}
    return texts | {WRAP_UP_QUESTION}


def test_full_session_follows_the_interviewer_policy(coach):
    view = coach.engine.start(question_id="arch-q01")
    question = coach.bank.get("arch-q01")
    fake = coach.chat_model
    fake.enqueue("Where is that per-card count computed, and what happens when the job computing it falls behind?")
    reply = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    # the answer made heavy points with authored follow-ups: the coach digs into one of them first
    assert reply.kind == "depth"
    text = reply.text()
    stored = coach.store.turns(view.session_id)[-1]
    point = question.point(stored.meta["point"])
    assert stored.meta["follow_up"] == "depth" and point.follow_ups and point.weight >= 2
    assert next(p for p in reply.grade.points if p.id == point.id).covered
    # the transition and a quote of the candidate's own words come first, then the phrased follow-up
    assert text.startswith("Let's move on to the high-level design. You mentioned \"")
    quoted = text.split('"')[1].rstrip("…")
    assert quoted in FRAUD_PARTIAL
    sent = " ".join(m.content for m in fake.calls[-1])
    assert point.follow_ups[0].split()[0] in sent and "Follow-up to ask" in sent
    for p in question.rubric:
        assert p.text.lower() not in text.lower()

    # a clarifying question is answered from the context, without moving the interview on
    clar = coach.engine.respond(view.session_id, "How many transactions per second do we see at peak?")
    assert clar.kind == "clarify-answer"
    assert "30K" in clar.text() or "10K" in clar.text()

    kinds = ["depth"]
    while True:
        reply = coach.engine.respond(view.session_id, "I would also log everything and retrain regularly.")
        if reply.done:
            break
        reply.text()
        kinds.append(reply.kind)
    state = coach.store.get_session(view.session_id).state
    turns = [t for t in coach.store.turns(view.session_id) if t.kind == "probe"]
    assert [t.meta["follow_up"] for t in turns] == kinds
    assert kinds.count("twist") == 1 and kinds[-1] == "wrap-up"
    assert len(kinds) == coach.settings.session.max_follow_ups + 1
    assert all(a != b or a != "depth" for a, b in zip(kinds, kinds[1:])), "depth follow-ups alternate"
    gaps = [t.meta["point"] for t in turns if t.meta["follow_up"] == "gap"]
    assert gaps == state["probed"] and len(set(gaps)) == len(gaps)
    weights = [question.point(p).weight for p in gaps]
    assert weights == sorted(weights, reverse=True), "gaps go heaviest first"
    assert [t.meta["stage"] for t in turns][0] == "design" and turns[-1].meta["stage"] == "wrap-up"
    assert "deep-dive" in {t.meta["stage"] for t in turns}
    assert all(t.content.strip().endswith(tuple(_authored(question))) or t.meta["follow_up"] == "twist"
               for t in turns[1:])

    assert reply.kind == "critique" and reply.done
    body = reply.text()
    crit = reply.critique
    assert crit.missed, "the partial answer misses points"
    for p in crit.missed:
        assert p.citations, p.id
        assert p.text in body
        assert any(f"knowledge/{c.source}" in body for c in p.citations)
    for p in crit.covered:
        assert p.evidence and " ".join(p.evidence.split())[:40] in " ".join(body.split())
    assert crit.twist is not None and crit.twist.answered and "**The twist**" in body
    assert "Model answer" in body and "Practise next" in body
    assert coach.store.get_session(view.session_id).status == "done"
    with pytest.raises(SessionError, match="has ended"):
        coach.engine.respond(view.session_id, "one more thing")


def test_clarifying_questions_get_the_fact_they_ask_about(coach):
    question = coach.bank.get("arch-q01")
    ask = lambda text: " ".join(coach.engine.context_facts(question, text))  # noqa: E731
    assert "100 ms" in ask("What latency budget do we have for scoring a transaction?")
    assert "30K/s" in ask("How many transactions per second at peak?")
    assert "30-90 days" in ask("How quickly do the labels arrive?")
    assert "400 hand-written rules" in ask("Is there an existing rules engine?")
    assert coach.engine.context_facts(question, "Which cloud provider do we use?") == []


def test_follow_ups_run_out_then_wrap_up_then_critique(coach):
    coach.settings.session.max_follow_ups = 1
    view = coach.engine.start(question_id="arch-q01")
    first = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    assert first.kind == "depth"
    first.text()  # a follow-up counts as asked once it has been shown (and stored)
    wrap = coach.engine.respond(view.session_id, "We would retrain the model every week on fresh data.")
    assert wrap.kind == "wrap-up" and wrap.text().endswith(WRAP_UP_QUESTION)
    last = coach.engine.respond(view.session_id, "The main trade-off is latency against recall.")
    assert last.kind == "critique" and last.done


def test_leaky_model_output_is_replaced(coach):
    view = coach.engine.start(question_id="arch-q01")
    question = coach.bank.get("arch-q01")
    leak = " ".join(p.text for p in question.rubric[:2])
    coach.chat_model.enqueue(leak)
    reply = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    text = reply.text()
    assert reply.used_fallback == [True]
    assert text.endswith(tuple(_authored(question)))


def test_backend_failure_falls_back(coach):
    coach.chat_model.fail_with = ConnectionError("backend down")
    view = coach.engine.start(question_id="arch-q01")
    reply = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    assert reply.text().endswith(tuple(_authored(coach.bank.get("arch-q01"))))


def test_backend_timeout_falls_back(coach):
    coach.settings.llm.timeout_s = 0.3
    coach.chat_model.delay_s = 2.0
    coach.chat_model.enqueue("Too late to matter?")
    view = coach.engine.start(question_id="arch-q01")
    reply = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    assert reply.text().endswith(tuple(_authored(coach.bank.get("arch-q01"))))


def test_restart_mid_session_resumes(coach, tmp_path):
    view = coach.engine.start(question_id="arch-q01")
    coach.engine.respond(view.session_id, FRAUD_PARTIAL).text()
    # a new process: new Coach, same files
    again = Coach(coach.settings)
    for name in ("embeddings", "guide", "bank", "grader"):
        again.__dict__[name] = coach.__dict__[name]
    resumed = again.engine.view(view.session_id)
    assert [k for _, k, _ in resumed.transcript] == ["question", "answer", "depth"]
    assert resumed.follow_ups_left == coach.settings.session.max_follow_ups - 1 and resumed.stage == "design"
    final = again.engine.respond(view.session_id, "done")
    final.text()
    assert final.critique.score == again.store.get_session(view.session_id).score
    report = again.report(view.session_id)
    assert "## Transcript" in report and FRAUD_PARTIAL[:40] in report and "## Citations" in report


def test_killed_during_a_probe_re_asks_it_on_resume(coach):
    """kill -9 while the coach's probe streams: the answer is kept, the probe is not counted as asked."""
    view = coach.engine.start(question_id="arch-q01")
    reply = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    assert reply.kind == "depth"  # the process dies here: the reply's stream is never drained
    again = Coach(coach.settings)
    for name in ("embeddings", "guide", "bank", "grader"):
        again.__dict__[name] = coach.__dict__[name]
    resumed = again.engine.view(view.session_id)
    assert [k for _, k, _ in resumed.transcript] == ["question", "answer"]
    assert resumed.follow_ups_left == coach.settings.session.max_follow_ups, "an unasked follow-up must not count"
    assert resumed.stage == "clarify", "nor may the stage move without the turn that moves it"
    assert again.store.get_session(view.session_id).state["answers"] == [FRAUD_PARTIAL]
    pending = again.engine.unanswered(view.session_id)
    assert pending is not None and pending.kind == "depth"
    pending.text()
    turns = again.store.turns(view.session_id)
    assert [t.kind for t in turns] == ["question", "answer", "probe"]
    assert again.engine.view(view.session_id).follow_ups_left == coach.settings.session.max_follow_ups - 1
    assert again.store.get_session(view.session_id).state["asked"][0]["point"] == turns[-1].meta["point"]
    assert again.engine.unanswered(view.session_id) is None


def test_lone_surrogates_are_replaced_and_the_session_goes_on(coach):
    """Web API JSON may carry '\\ud800'; it must not reach SQLite or the model as is."""
    from coach.ui.common import check_input

    view = coach.engine.start(question_id="arch-q01")
    reply = coach.engine.respond(view.session_id, FRAUD_PARTIAL + " \ud800 and \udcff")
    reply.text()
    stored = coach.store.turns(view.session_id)[1].content
    assert "\ud800" not in stored and "\ufffd" in stored and stored.startswith(FRAUD_PARTIAL[:40])
    clar = coach.engine.respond(view.session_id, "What is the peak \ud800 volume?")
    clar.text()
    assert check_input(coach, "drift \ud800 detection", "question") == "drift \ufffd detection"
    result = coach.ask("how do I detect \ud800 concept drift?")
    assert "\ud800" not in result.answer
    assert coach.grade("arch-q01", "We use \udcff velocity features.").score >= 0
    assert coach.engine.view(view.session_id).status == "active"


def test_done_before_any_answer_is_a_note(coach):
    view = coach.engine.start(question_id="arch-q01")
    reply = coach.engine.respond(view.session_id, "done")
    assert reply.kind == "note" and "at least one answer" in reply.text()


def test_bad_input(coach):
    view = coach.engine.start(question_id="arch-q01")
    with pytest.raises(QueryError, match="say something"):
        coach.engine.respond(view.session_id, "   ")
    with pytest.raises(QueryError, match="limit"):
        coach.engine.respond(view.session_id, "x" * 20_000)
    with pytest.raises(SessionError, match="no session"):
        coach.engine.respond("nope", "hello")
    with pytest.raises(QueryError, match="unknown topic"):
        coach.engine.start(topic="cooking")


def test_weakest_picks_from_weakest_dimension_and_avoids_repeats(coach):
    first = coach.engine.start(question_id="lc-q01")
    coach.engine.respond(first.session_id, "I would build a model and check accuracy on a test set. done").text()
    coach.engine.finish(first.session_id).text() if coach.store.get_session(first.session_id).status == "active" else None
    picked = {coach.engine.choose_question(weakest=True).id for _ in range(10)}
    assert "lc-q01" not in picked


def test_self_assessment_compares_levels(coach):
    answer = FRAUD_PARTIAL
    result = coach.assess("arch-q01", answer, {"metrics": 4, "serving": 4, "framing": 1})
    rows = {r.dimension: r for r in result.rows}
    assert rows["metrics"].coach_level >= 3 and rows["serving"].coach_level == 1
    assert rows["serving"].gap == 3 and any(e.startswith("missed:") for e in rows["serving"].evidence)
    assert coach.store.self_ratings(result.session_id) == {"metrics": 4, "serving": 4, "framing": 1}
    assert "Self vs coach" in result.markdown()
    with pytest.raises(QueryError, match="unknown dimension"):
        coach.assess("arch-q01", answer, {"charisma": 3})
    with pytest.raises(QueryError, match="1 \\(weak\\) to 4"):
        coach.assess("arch-q01", answer, {"metrics": 9})


def test_ask_cites_and_declines(coach):
    result = coach.ask("what PSI value usually means a feature has shifted significantly?")
    assert result.covered and result.citations and result.grounded
    assert re.search(r"\[\d\]", result.answer)
    assert any(c.section_id == "mon-drift-statistics" for c in result.citations)
    out = coach.ask("what is the best way to cook risotto with mushrooms?")
    assert not out.covered and not out.citations and "does not cover" in out.answer and out.nearest


def test_ask_drops_unsupported_model_sentences(coach):
    coach.chat_model.enqueue("PSI above 0.25 usually signals a significant shift that deserves investigation [1]. "
                             "The Eiffel Tower is repainted by teams of climbers who love the view [2].")
    result = coach.ask("what PSI value usually means a feature has shifted significantly?")
    assert result.used_model and "0.25" in result.answer
    assert "Eiffel" not in result.answer


def test_support_check_keeps_paraphrase_and_drops_invention(coach):
    answerer = coach.answerer
    units = [(1, "Customary PSI bands: below 0.1 nothing meaningful; above 0.2 (or 0.25) a significant shift."),
             (2, "Chi-square works for categorical features when each cell expects about five counts.")]
    vecs = coach.embeddings.encode([u for _, u in units])
    kept, dropped = answerer._supported(
        "A PSI above 0.25 is usually read as a significant shift. Categorical features suit chi-square when cells "
        "expect five or more counts. Bananas ripen faster when stored next to apples in a paper bag.", units, vecs)
    assert len(kept) == 2 and kept[0].endswith("[1]") and kept[1].endswith("[2]")
    assert dropped == ["Bananas ripen faster when stored next to apples in a paper bag."]


@pytest.mark.llm
def test_full_session_with_real_embedded_model(coach):
    coach.settings.llm.mode = "smollm2"
    coach.settings.llm.max_tokens = 60
    coach.__dict__.pop("chat_model", None)
    coach.settings.llm.phrasing = "always"  # the model phrases even where its pass rate made template text the default
    coach.settings.session.max_follow_ups = 1
    view = coach.engine.start(question_id="arch-q01")
    question = coach.bank.get("arch-q01")
    probe = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    text = probe.text()
    assert probe.kind == "depth" and 10 < len(text) <= 600
    assert not any(p.text.lower() in text.lower() for p in question.rubric)
    coach.engine.respond(view.session_id, "We would monitor drift and roll out in shadow mode first.").text()
    final = coach.engine.respond(view.session_id, "The main trade-off is recall against false declines.")
    body = final.text()
    assert final.kind == "critique" and "Coach's summary" in body and len(body) > 500


def test_embedded_model_default_uses_authored_text_without_loading_the_model(coach):
    """SmolLM2 failed the phrasing checks of probe, clarify and critique_intro too often
    (prompts/*.yaml embedded_model: false): with it configured, a session shows authored text and
    never even loads it."""
    coach.settings.llm.mode = "smollm2"
    coach.__dict__.pop("chat_model", None)
    view = coach.engine.start(question_id="arch-q01")
    first = coach.engine.respond(view.session_id, FRAUD_PARTIAL)
    assert first.text().endswith(tuple(_authored(coach.bank.get("arch-q01")))) and first.used_fallback == []
    coach.engine.respond(view.session_id, "How many transactions per second do we see at peak?").text()
    final = coach.engine.finish(view.session_id)
    assert "**Coach's summary:** You scored" in final.text()
    assert "chat_model" not in coach.__dict__, "the embedded model was loaded"
