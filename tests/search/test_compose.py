"""Choosing the sentences of an Ask answer: quotable units, ranking, compared sides, citations."""

from __future__ import annotations

import re

import numpy as np

from coach.search.answer_shapes import comparison_sides, is_follow_up
from coach.search.ask import (AskCitation, GuideAnswerer, _numbered_units, _passage_sentences, _whole, passage_units,
                              sentence_before, table_rows)
from coach.search.compose import Passage, Picker, Units, compose, coverage, pick_sides, relevance
from coach.search.retrieval import Hit
from coach.text import stems, words


def test_table_rows_become_statements_named_by_their_first_cell():
    rows = table_rows(["| Method | Watches | Strength |", "|---|---|---|",
                       "| CUSUM | mean vs. a known baseline | fast on small shifts |",
                       "| **ADWIN** | an adaptive window | |"])
    assert rows == ["CUSUM — Watches: mean vs. a known baseline; Strength: fast on small shifts.",
                    "ADWIN — Watches: an adaptive window."]
    # a table cut from its header by chunking keeps its cells, without names
    assert table_rows(["| Redis | in-memory, fastest |", "| DynamoDB | cheaper per GB |"]) == [
        "Redis — in-memory, fastest.", "DynamoDB — cheaper per GB."]


def test_passage_sentences_keep_labels_drop_fragments_and_read_tables():
    text = ("the chunk before ended mid-sentence here. The next sentence is whole and long enough.\n"
            "- **Offline store.** A warehouse holding the full history of values.\n"
            "- **Covariate shift: P(X) moves.** The inputs change but the rule does not.\n"
            "| Option | Cost |\n|---|---|\n| Batch precompute | cheapest per prediction |\n"
            "After the table the prose goes on for a while.")
    assert _passage_sentences(text) == [
        "The next sentence is whole and long enough.",
        "Offline store: A warehouse holding the full history of values.",  # the label leads its sentence
        "Covariate shift: P(X) moves.", "The inputs change but the rule does not.",  # a long label stands alone
        "Batch precompute — Option: cheapest per prediction.".replace("Option", "Cost"),
        "After the table the prose goes on for a while.",
    ]


def test_diagram_source_is_not_a_sentence():
    assert not _whole("Flowchart LR app[Store list] --> eta[ETA service] eta --> fs[(Feature store)].")
    assert _whole("Online store: A low-latency key-value store holding only the latest value.")


def test_comparison_sides_keep_a_b_and_drop_the_trailing_question():
    assert comparison_sides("shadow vs canary vs A/B test") == ["shadow", "canary", "A/B test"]
    assert comparison_sides("demographic parity vs equalized odds, which should I monitor?") == [
        "demographic parity", "equalized odds"]


def test_a_question_about_the_two_is_a_follow_up():
    assert is_follow_up("what does a hybrid of the two look like in practice?")
    assert is_follow_up("should I use both?")
    assert not is_follow_up("what does a hybrid batch and online design look like in practice?")


def _units(rows: list[tuple[int, str]], vecs: list[list[float]]) -> Units:
    v = np.asarray(vecs, dtype="float32")
    return Units(cites=[n for n, _ in rows], texts=[t for _, t in rows], vecs=v / np.linalg.norm(v, axis=1, keepdims=True),
                 stems=[set(stems(t)) for _, t in rows])


def test_rare_question_terms_and_the_matching_passage_decide_the_ranking():
    rows = [(1, "Monitoring needs dashboards for every model in production."),
            (2, "Report the effective sample size next to the estimate."),
            (2, "Clip the weights at a cap chosen on validation data.")]
    units = _units(rows, [[1, 0, 0], [1, 0, 0], [1, 0, 0]])  # equally close in meaning
    weights = {"weight": 3.0, "estim": 2.0, "monitor": 0.2}
    passages = {1: Passage(0.3, set(stems("Monitoring overview"))),
                2: Passage(0.3, set(stems("Inverse propensity weights and the estimate")))}
    rel = relevance("what do I do with huge weights in the estimate?", "how-to", units, np.array([1, 0, 0]),
                    weights, passages)
    assert rel[0] < min(rel[1], rel[2])
    assert coverage(weights, units.stems[2]) > coverage(weights, units.stems[0])


def test_interview_talk_and_side_lists_lose_unless_asked_for():
    rows = [(1, "Interviewers ask about drift to see whether you have run models."),
            (1, "Drift is a change in the input distribution over time."),
            (2, "Forgetting that drift alone does not mean the model got worse.")]
    units = _units(rows, [[1, 0], [1, 0], [1, 0]])
    passages = {1: Passage(0.5, set()), 2: Passage(0.5, set(), side_list=True)}
    rel = relevance("what is drift?", "definition", units, np.array([1, 0]), {"drift": 1.0}, passages)
    assert rel[1] > rel[0] > rel[2]
    asked = relevance("what are common drift mistakes?", "mistakes", units, np.array([1, 0]), {"drift": 1.0}, passages)
    assert asked[2] > asked[0]


def test_each_side_is_answered_by_a_sentence_that_names_it_or_left_out():
    rows = [(1, "CUSUM accumulates deviations from a known baseline mean."),
            (2, "Batch jobs score every user overnight and store the results."),
            (1, "Page-Hinkley compares the mean with a running mean instead.")]
    units = _units(rows, [[0, 1, 0], [1, 0, 0], [0, 0.6, 0.8]])
    side_vecs = np.array([[1.0, 0.0, 0.0]] * 3)  # meaning alone points at the wrong sentence
    sides = ["CUSUM", "Page-Hinkley", "ADWIN"]
    picked = pick_sides(Picker(units), sides, side_vecs, [stems(s) for s in sides], np.zeros(3), {})
    assert {k: v.text for k, v in picked.items()} == {"CUSUM": rows[0][1], "Page-Hinkley": rows[2][1]}


class _BagEmbeddings:
    """Bag-of-words vectors: enough meaning for a deterministic test."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 256), dtype="float32")
        for i, text in enumerate(texts):
            for w in words(text):
                out[i, self.vocab.setdefault(w, len(self.vocab) % 256)] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


class _Searcher:
    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits

    def search(self, query: str, k: int = 5, topic: str | None = None) -> list[Hit]:
        return self.hits[:k]

    def term_coverage(self, query: str, hits: list[Hit]) -> float:
        return 1.0

    def term_weights(self, query: str) -> dict[str, float]:
        return {t: 1.0 for t in stems(query)}


def _hit(rank: int, heading: str, body: str, similarity: float) -> Hit:
    return Hit(rank=rank, score=1.0 / rank, topic="monitoring", section_id=f"mon-s{rank}", title="T",
               heading=heading, source="x.md", text=f"{heading}\n\n{body}", similarity=similarity)


def test_the_answer_quotes_table_rows_leaves_out_filler_and_cites_only_what_it_quotes():
    hits = [_hit(1, "Alerting > Overview", "Alert fatigue is the main risk of drift monitoring in production.", 0.5),
            _hit(2, "Detectors > Side by side", "| Detector | Watches |\n|---|---|\n"
                 "| CUSUM | the mean of a stream against a known baseline |\n"
                 "| ADWIN | the mean over an adaptive window of recent values |", 0.45),
            _hit(3, "Cooking > Bread", "Knead the dough for ten minutes before it rests overnight.", 0.3)]
    answerer = GuideAnswerer(_Searcher(hits), _BagEmbeddings(), min_similarity=0.3)
    result = answerer.ask("CUSUM vs ADWIN")
    assert "CUSUM — Watches: the mean of a stream against a known baseline." in result.answer
    assert "ADWIN — Watches: the mean over an adaptive window of recent values." in result.answer
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
    assert cited == {c.n for c in result.citations} == set(range(1, len(result.citations) + 1))
    assert "Knead" not in result.answer and "mon-s3" not in {c.section_id for c in result.citations}  # filler stays out
    units = {u for _, u in passage_units(result.citations)}
    for line in result.answer.splitlines():
        body = re.sub(r"^(- |\d+\. |\*\*[^*]+:\*\* )", "", line).split(" [")[0]
        assert not body or body in units, body


def test_citations_are_renumbered_in_the_order_the_answer_uses_them():
    cites = [AskCitation(n=i, section_id=f"s{i}", title="", heading="", topic="", source="", text="") for i in (1, 2, 3)]
    result = GuideAnswerer._cited("q", "First. [3] Second. [1] Third. [3]", cites)
    assert result.answer == "First. [1] Second. [2] Third. [1]"
    assert [(c.n, c.section_id) for c in result.citations] == [(1, "s3"), (2, "s1")]


def test_a_sentence_that_leans_on_the_one_before_it_is_shown_after_that_one():
    text = ("Real-time features: current traffic speed and open orders right now. These change within minutes "
            "and drive most of the error.\n\nSee lc-feature-engineering for the full list of them.\n\nThey are also where the bugs live, "
            "which a reader cannot place.")
    citation = AskCitation(n=1, section_id="s", title="T", heading="T > H", topic="lifecycle", source="", text=text)
    numbered = _numbered_units([citation])
    before = sentence_before(numbered)
    texts = [t for _, t, _ in numbered]
    leaning = texts.index("These change within minutes and drive most of the error.")
    assert before[leaning] == leaning - 1
    # a sentence naming a section id is not quotable: what follows it has no sentence right before it
    assert before[texts.index("They are also where the bugs live, which a reader cannot place.")] is None
    units = Units(cites=[1] * len(texts), texts=texts, vecs=np.eye(len(texts), dtype="float32"),
                  stems=[set(stems(t)) for t in texts], before=before)
    rel = np.array([0.1 if i != leaning else 2.0 for i in range(len(texts))])
    direct, support = compose("when-why", units, rel, {}, Picker(units))
    assert direct[0].text == ("Real-time features: current traffic speed and open orders right now. "
                              "These change within minutes and drive most of the error.")
    assert sum(p.text.count(". ") + 1 for p in direct) <= 3  # the antecedent counts toward the direct answer
    assert all(texts[leaning - 1] not in p.text for p in support)  # and is not shown twice


def test_a_quick_answer_asked_in_other_words_leads_the_answer_as_written():
    quick = "Drift monitor > Quick answers > How do I alert on PSI drift?"
    hits = [_hit(1, "Drift monitor > Alerting", "Alerting on PSI drift works best with two levels for every feature. "
                 "Page the on-call only when an important feature crosses the upper band.", 0.6),
            _hit(2, quick, "Alert on PSI drift with a ticket above 0.1 and a page above 0.25. "
                 "Weigh each feature by its importance before paging anyone.", 0.5)]
    answerer = GuideAnswerer(_Searcher(hits), _BagEmbeddings(), min_similarity=0.3)
    led = answerer.ask("how should I alert on PSI drift?")
    first = led.answer.split("\n")[0]
    assert first == ("Alert on PSI drift with a ticket above 0.1 and a page above 0.25. [1] "
                     "Weigh each feature by its importance before paging anyone. [1]")
    assert led.citations[0].heading == quick
    # a question its quick question is not close to is answered sentence by sentence, as before
    other = answerer.ask("which features should page the on-call?")
    assert not other.answer.startswith("Alert on PSI drift with a ticket")


def test_quick_answers_are_chunked_one_question_each():
    from coach.content.guide import Section, SectionMeta, quick_question
    from ingest.chunking import Chunker

    body = ("## Bands\n\nPSI below 0.1 is stable.\n\n## Quick answers\n\n### What PSI value is worrying?\n\n"
            "Above 0.25 the shift is large. Read it with the window size.\n\n### How is PSI computed?\n\n"
            "PSI sums over reference bins. Each bin compares two shares.\n\n## What interviewers probe\n\n- Bands.\n")
    meta = SectionMeta(id="mon-x", topic="monitoring", title="PSI", summary="PSI bands and how to read them.",
                       tags=[], sources=["K"])
    section = Section(meta=meta, body=body, source="monitoring/mon-x.md", digest="0" * 64)
    assert section.quick_answers == [
        ("What PSI value is worrying?", "Above 0.25 the shift is large. Read it with the window size."),
        ("How is PSI computed?", "PSI sums over reference bins. Each bin compares two shares."),
    ]
    chunks = Chunker(chunk_size=1200, chunk_overlap=100).split(section)
    asked = [quick_question(str(c.metadata["heading"])) for c in chunks]
    assert asked == ["", "What PSI value is worrying?", "How is PSI computed?", ""]
