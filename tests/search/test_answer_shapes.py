"""Ask answers shaped for the question: definitions, comparisons, steps; follow-ups read in context."""

from __future__ import annotations

import json
import re

import pytest

from coach.search.answer_shapes import Picked, comparison_sides, is_follow_up, question_shape, render
from tests.conftest import run_cli, write_config, ROOT


@pytest.mark.parametrize(("question", "shape"), [
    ("What is a feature store?", "definition"),
    ("covariate shift vs concept drift", "comparison"),
    ("what is the difference between canary, shadow and blue-green deployments?", "comparison"),
    ("should I use PR-AUC or ROC-AUC?", "comparison"),
    ("how do I set up a feature store", "how-to"),
    ("and how do I alert on it?", "how-to"),
    ("labels arrive 60 days late, how can I tell this week that the model is worse?", "how-to"),
    ("what should I log at serving time to train the next model?", "how-to"),
    ("when should I use batch inference", "when-why"),
    ("what threshold for PSI", "numbers"),
    ("common mistakes with A/B tests", "mistakes"),
    ("PagedAttention", "definition"),
    ("offline AUC went up but online CTR fell, what could have happened?", "when-why"),
    ("for blurring faces, why prioritise recall over precision?", "when-why"),
    ("what chunk size, overlap and top-k should I start with for RAG?", "numbers"),
    ("how is the ML Test Score computed?", "numbers"),
    ("what should my system serve when the model server is down?", "how-to"),
])
def test_question_shapes(question, shape):
    assert question_shape(question) == shape


def test_comparison_sides():
    assert comparison_sides("covariate shift vs concept drift") == ["covariate shift", "concept drift"]
    assert comparison_sides("difference between canary, shadow and blue-green?") == ["canary", "shadow", "blue-green"]
    assert comparison_sides("How do I detect drift?") == []


def test_follow_ups():
    assert is_follow_up("and how do I alert on it?") and is_follow_up("what about for images?")
    assert not is_follow_up("How do I detect concept drift when labels arrive late in a fraud model?")


def test_render_table_for_three_sides_and_steps_in_order():
    sides = {name: Picked(n, f"{name} does a thing with P(Y|X) in it.") for n, name in enumerate(["a", "b", "c"], 1)}
    table = render("comparison", [], [Picked(1, "More.")], sides)
    assert table.splitlines()[:2] == ["| Option | What the guide says |", "|---|---|"]
    assert "&#124;" in table and "- More. [1]" in table
    steps = render("how-to", [Picked(1, "Do it.")], [Picked(2, "First."), Picked(1, "Then.")])
    assert steps == "Do it. [1]\n\n1. First. [2]\n2. Then. [1]"


@pytest.fixture(scope="module")
def coach(real_coach):
    return real_coach


def test_answers_are_whole_clean_sentences(coach):
    for question in ["What is a feature store?", "how do I do a safe rollout of a new model",
                     "What is PSI and what value means I should worry?"]:
        r = coach.ask(question)
        assert r.covered and not r.used_model
        assert "**Typical" not in r.answer and "- **" not in r.answer and "`" not in r.answer
        assert not re.search(r"\b(lc|infra|dp|mon|arch)-[a-z]+-[a-z-]+\b", r.answer)  # no section ids in prose
        for line in r.answer.splitlines():
            if line.strip():
                assert re.search(r"[.!?]( \[\d+\])?( \|)?$", line.strip()), line  # every line ends a sentence


def test_a_comparison_answers_each_side(coach):
    r = coach.ask("covariate shift vs concept drift")
    blocks = r.answer.split("\n\n")
    sides = next(b for b in blocks if "**covariate shift:**" in b)  # after the section's quick answer, when one leads
    assert "**concept drift:**" in sides and blocks.index(sides) <= 1


def test_a_follow_up_is_read_with_the_previous_question(coach):
    alone = coach.ask("and how do I alert on it?")
    follow = coach.ask("and how do I alert on it?", previous="What is PSI and what value means I should worry?")
    assert any(c.section_id in ("mon-alert-design", "mon-drift-statistics") for c in follow.citations)
    assert [c.section_id for c in follow.citations] != [c.section_id for c in alone.citations]


def test_embedded_model_does_not_write_ask_prose_by_default(tmp_path):
    from coach.settings import load_settings

    cfg = write_config(tmp_path, ROOT / "knowledge", llm={"mode": "smollm2"})
    assert not load_settings(cfg, env={}).llm.writes_ask_prose
    assert load_settings(cfg, env={"COACH_LLM__MODE": "ollama"}).llm.writes_ask_prose
    assert not load_settings(cfg, env={"COACH_LLM__MODE": "ollama", "COACH_LLM__ASK_PROSE": "never"}).llm.writes_ask_prose


def test_cli_ask_session_keeps_the_conversation(real_coach, tmp_path):
    cfg = write_config(tmp_path, ROOT / "knowledge", llm={"mode": "fake"},
                       vector_store={"path": str(real_coach.settings.chroma_path)})
    code, out, err = run_cli("ask", "What is PSI and what value means I should worry?", "--session", "s1", "--json",
                             config=cfg)
    assert code == 0, err
    code, out, err = run_cli("ask", "and how do I alert on it?", "--session", "s1", "--json", config=cfg)
    assert code == 0, err
    cited = {c["section_id"] for c in json.loads(out)["citations"]}
    assert cited & {"mon-alert-design", "mon-drift-statistics"}
    code, out, err = run_cli("ask", "anything", "--session", "../etc", config=cfg)
    assert code != 0 and "ask session id" in err
