"""A capable backend drafts the rubric for a question no bank question matches: validated, cached,
shown; a bad draft falls back to the rubric composed from the guide. The backend is a scripted
OpenAI-compatible HTTP server started by the test."""

from __future__ import annotations

import json
import re

import pytest

from coach.grading.drafted_rubric import DraftError, parse_draft
from tests.llm.test_llm import Stub
from tests.ui_support import coach_like

QUESTION = ("Our grocery app wants a carousel that guesses which aisle a shopper opens next; before any "
            "model, how would you set the whole thing up?")
ANSWER = ("First I'd pin the goal down: more baskets completed per session, measured in an A/B test, because "
          "clicks alone reward clickbait. I'd log impressions and opens as labels, split by time so training "
          "never sees the future, and start from a popularity baseline per store before any learned model. "
          "Serving would precompute candidates nightly and re-rank at request time within 100 ms.")
DIMENSIONS = {"framing", "metrics", "data", "modeling", "serving", "monitoring", "tradeoffs", "features"}


def draft_for(sections: list[str]) -> dict:
    dims = ["framing", "metrics", "data", "modeling", "serving"]
    texts = ["Frames the goal as completed baskets, not clicks, with the decision the model feeds.",
             "Measures success online with an A/B test on baskets per session and guardrails.",
             "Builds labels from logged impressions and opens and splits them by time.",
             "Starts from a popularity baseline before a learned ranking model.",
             "Serves precomputed candidates re-ranked at request time within the latency budget."]
    cues = [["baskets completed", "the goal"], ["a/b test", "baskets per session"], ["split by time", "impressions"],
            ["popularity baseline", "baseline"], ["re-rank at request time", "precompute"]]
    return {"points": [{"id": f"p{i}-{d}", "text": t, "dimension": d, "weight": 3 if i < 2 else 2, "cues": c,
                        "sections": [sections[i % len(sections)]]}
                       for i, (d, t, c) in enumerate(zip(dims, texts, cues))]}


class RubricServer(Stub):
    """Replies with a valid draft citing the sections the prompt offered (or with ``bad`` text)."""

    def __init__(self, bad: str | None = None) -> None:
        super().__init__()
        self.bad = bad

    def openai(self, handler, body: dict) -> None:
        prompt = body["messages"][-1]["content"]
        offered = re.findall(r"^- ([a-z0-9-]+): ", prompt, re.M)
        self.reply = self.bad if self.bad is not None else json.dumps(draft_for(offered))
        super().openai(handler, body)


def test_parse_draft_accepts_the_schema_and_names_what_is_wrong():
    points = parse_draft("Sure! " + json.dumps(draft_for(["s-one", "s-two"])), DIMENSIONS, ["s-one", "s-two"])
    assert [p.dimension for p in points] == ["framing", "metrics", "data", "modeling", "serving"]
    assert all(p.probe for p in points), "a drafted point gets the dimension's probe"
    bad_dim = draft_for(["s-one"])
    bad_dim["points"][0]["dimension"] = "vibes"
    cases = [("no json here", "no JSON object"),
             (json.dumps({"points": draft_for(["s-one"])["points"][:3]}), "not the rubric schema"),
             (json.dumps(bad_dim), "unknown dimension.*vibes"),
             (json.dumps(draft_for(["s-zzz"])), "section.*s-zzz.*not offered")]
    for reply, message in cases:
        with pytest.raises(DraftError, match=message):
            parse_draft(reply, DIMENSIONS, ["s-one"])


@pytest.fixture
def openai_coach(real_coach, tmp_path):
    def make(server: Stub):
        coach = coach_like(real_coach, tmp_path, llm={"mode": "openai", "model": "scripted",
                                                       "base_url": f"http://127.0.0.1:{server.port}/v1",
                                                       "timeout_s": 20})
        coach.__dict__.pop("grader")  # its own grader: the shared one has no model to draft with
        return coach
    return make


def test_capable_backend_drafts_validates_and_caches_the_rubric(openai_coach, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with RubricServer() as server:
        coach = openai_coach(server)
        result = coach.grade(QUESTION, ANSWER)
        assert result.rubric_source == "model" and result.question_id.startswith("model:")
        assert [p.id for p in result.points] == [f"p{i}-{d}" for i, d in
                                                 enumerate(["framing", "metrics", "data", "modeling", "serving"])]
        assert any(p.covered for p in result.points) and result.score > 0
        assert "drafted by the configured model" in result.feedback["notes"][0]
        offered = re.findall(r"^- ([a-z0-9-]+): ", server.requests[0]["body"]["messages"][-1]["content"], re.M)
        assert offered and all(s in offered for p in result.points for s in p.sections)
        again = coach.grade(QUESTION, ANSWER)
        assert len(server.requests) == 1, "the drafted rubric is cached in the store"
        assert [p.id for p in again.points] == [p.id for p in result.points] and again.score == result.score


def test_a_bad_draft_falls_back_to_the_composed_rubric(openai_coach, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with RubricServer(bad='{"points": [{"id": "x"}]}') as server:
        coach = openai_coach(server)
        result = coach.grade(QUESTION, ANSWER)
        assert len(server.requests) == 1 and result.rubric_source == "guide"
        assert "built from the guide sections" in result.feedback["notes"][0]
