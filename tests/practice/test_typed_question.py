"""A question the candidate types: practice, self-assessment, report and CLI grade against the close
bank question's rubric, or one composed from the guide, and say which (real model and guide)."""

import pytest
import yaml

from coach.errors import KnowledgeError, QueryError
from tests.conftest import run_cli, write_config, ROOT
from tests.practice.test_session import coach  # noqa: F401  (fixture: a fresh store over the real guide)

NEXT_APP = ("a row on the phone's home screen that guesses which app the user opens next; before you touch a model, "
            "how do you set this up?")
NEXT_APP_ANSWER = ("I would frame it as ranking the installed apps by the probability that each is opened next, because "
                   "the row shows four slots and a ranking fills them. Labels come for free from the next app the user "
                   "actually opens after unlocking, so every unlock is a training example. I would measure offline "
                   "hit rate in the top four slots on a time-based split, since the future must not leak into training, "
                   "and online the share of launches that start from the row.")
DRIFT_STATS = "Which statistical distance would you pick for comparing feature histograms between two weeks?"


def test_a_typed_question_borrows_the_close_bank_rubric_and_says_so(coach):  # noqa: F811
    view = coach.engine.start(question_text=NEXT_APP)
    assert view.question_id == "lc-q01" and view.question == NEXT_APP  # posed in the candidate's words
    assert view.graded_against.startswith("Graded against the bank question lc-q01")
    assert view.transcript == [("coach", "question", NEXT_APP)]
    reply = coach.engine.respond(view.session_id, NEXT_APP_ANSWER)
    reply.text()
    assert reply.grade is not None and reply.grade.question_id == "lc-q01" and reply.grade.score > 0
    # A clarifying question gets no numbers from the bank's scenario: the candidate described their own.
    clarified = coach.engine.respond(view.session_id, "How many users do we have?").text()
    assert "isn't specified" in clarified
    critique = coach.engine.finish(view.session_id)
    critique.text()
    assert critique.grade.question_id == "lc-q01"
    report = coach.report(view.session_id)
    assert NEXT_APP in report and "Graded against the bank question lc-q01" in report


def test_a_typed_question_with_no_bank_match_keeps_its_composed_rubric(coach):  # noqa: F811
    view = coach.engine.start(question_text=DRIFT_STATS)
    assert view.question_id.startswith("guide:") and "mon-drift-statistics" in view.question_id
    assert view.topic == "monitoring" and "built from the guide" in view.graded_against
    answer = ("I would bin the feature and compare the two weeks with the population stability index, because it "
              "reads as one number per feature, and alert above 0.25; for continuous features a KS test as well.")
    first = coach.engine.respond(view.session_id, answer)
    first.text()
    stored = coach.store.get_session(view.session_id).state["rubric"]
    assert [p["id"] for p in stored["rubric"]] == [p.id for p in first.grade.points]
    # Resuming reads the stored rubric, not the bank (which has no such question).
    assert coach.engine.view(view.session_id).question == DRIFT_STATS
    final = coach.engine.finish(view.session_id)
    final.text()
    assert final.grade.question_id == view.question_id and final.grade.score == first.grade.score
    assert "built from the guide" in coach.report(view.session_id)


def test_typed_question_errors_name_the_problem(coach):  # noqa: F811
    with pytest.raises(QueryError, match="too short"):
        coach.engine.start(question_text="drift?")
    with pytest.raises(QueryError, match="empty"):
        coach.engine.start(question_text="   ")
    with pytest.raises(KnowledgeError, match="unknown question id 'arch-q999'"):
        coach.engine.start(question_text="arch-q999")
    with pytest.raises(QueryError, match="not both"):
        coach.engine.start(question_id="lc-q01", question_text=NEXT_APP)
    assert coach.engine.start(question_text="lc-q01").graded_against == ""  # a bank id: the bank's own prompt


def test_self_assessment_of_a_typed_question(coach):  # noqa: F811
    result = coach.assess(NEXT_APP, NEXT_APP_ANSWER, {"framing": 3})
    assert result.question_id == "lc-q01"
    assert any("Graded against the bank question lc-q01" in n for n in result.grade["feedback"]["notes"])
    report = coach.report(result.session_id)
    assert NEXT_APP in report
    composed = coach.assess(DRIFT_STATS, "I would compare the weekly histograms with PSI because it is one number.", {})
    assert composed.question_id.startswith("guide:")
    assert coach.store.get_session(composed.session_id).state["rubric_source"] == "guide"


def test_cli_practice_takes_a_typed_question(tmp_path, coach):  # noqa: F811
    script = tmp_path / "turns.yaml"
    script.write_text(yaml.safe_dump({"turns": [NEXT_APP_ANSWER, "done"]}), encoding="utf-8")
    cfg = write_config(tmp_path, ROOT / "knowledge", llm={"mode": "fake"},
                       vector_store={"path": str(coach.settings.chroma_path)})
    code, out, err = run_cli("practice", "--question", NEXT_APP, "--script", str(script), config=cfg)
    assert code == 0, err[-800:]
    assert "Report: coach report" in out and NEXT_APP in out
