"""Which misconceptions and red flags an answer states: one matcher for both.

A wrong claim (a misconception) or a bad move (a red flag) is stated when a sentence carries one
of its cue phrases (``first_statement``, negation-aware), or when a sentence or a clause of a long
one reads as one of its reference texts: the claim or flag text and the `says` sentences, written
the way candidates put it in their own words. ``best_statement`` then holds the match to the
lexical evidence and the stance of the closest reference, and a correct key point that is closer
to the sentence than any reference vetoes it (a sentence about the same topic that gets it right).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from coach.grading.claims import (
    best_statement, content_stems, distinctive_stems, first_statement, same_polarity, stance,
)
from coach.grading.results import FlagResult, MisconceptionResult

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Question
    from coach.grading.config import GradingConfig


@dataclass
class References:
    """The texts one group of claims is matched against (each claim's own text, then its `says`),
    with what is read from them once per question rather than in every grade."""

    vecs: np.ndarray                 # (texts, dim)
    texts: list[str]
    owner: np.ndarray                # (texts,): the claim each text states
    stances: np.ndarray              # (texts, 3): ``stance`` of each text
    distinctive: list[frozenset[str]]  # per claim: the words only the wrong claim uses

    @classmethod
    def build(cls, groups: list[list[str]], vecs: np.ndarray, distinctive: list[frozenset[str]]) -> "References":
        """``groups``: each claim's texts; ``vecs``: their embeddings, in the same flattened order."""
        texts = [t for g in groups for t in g]
        return cls(vecs=vecs, texts=texts, owner=np.array([k for k, g in enumerate(groups) for _ in g], dtype=int),
                   stances=np.array([stance(t) for t in texts], dtype=int).reshape(-1, 3), distinctive=distinctive)

    def nearest(self, unit_vecs: np.ndarray, n: int, units: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(units, n) similarity to each claim's closest text, and the index of that text.

        With ``units``, the closest text that the unit keeps the stance of ("cannot be personalised"
        is read against a wording with a negation, not against "is the same for everyone"); the
        closest text of all when none does (``best_statement`` then turns it down).
        """
        ref_sims = unit_vecs @ self.vecs.T
        sims = np.full((len(unit_vecs), n), -1.0)
        nearest = np.zeros((len(unit_vecs), n), dtype=int)
        if not len(unit_vecs) or not len(self.texts):
            return sims, nearest
        kept = ref_sims if units is None else np.where(stance_matrix(units, self.stances), ref_sims, -np.inf)
        rows = np.arange(len(unit_vecs))
        for k in range(n):
            refs = np.flatnonzero(self.owner == k)
            if refs.size == 0:
                continue
            best = refs[kept[:, refs].argmax(axis=1)]
            fallback = refs[ref_sims[:, refs].argmax(axis=1)]
            nearest[:, k] = np.where(np.isfinite(kept[rows, best]), best, fallback)
            sims[:, k] = ref_sims[rows, nearest[:, k]]
        return sims, nearest


def stance_matrix(units: list[str], stances: np.ndarray) -> np.ndarray:
    """``keeps_stance(unit, text)`` for every unit and every text whose ``stance`` row is given."""
    u = np.array([stance(t) for t in units], dtype=int).reshape(-1, 3)
    return ((u[:, None, 0] == stances[None, :, 0]) & (u[:, None, 1] == stances[None, :, 1])
            & (u[:, None, 2] <= stances[None, :, 2]))


def misconception_groups(question: "Question") -> list[list[str]]:
    return [[m.claim, *m.says] for m in question.misconceptions]


def misconception_distinctive(question: "Question") -> list[frozenset[str]]:
    """Per misconception: the words of its claim, cues and `says` that its correction and point never use."""
    points = {p.id: p.text for p in question.rubric}
    return [distinctive_stems(m.claim, (*m.cues, *m.says), m.correction, points.get(m.point, ""))
            for m in question.misconceptions]


def red_flag_groups(question: "Question") -> list[list[str]]:
    return [list(f.says) for f in question.red_flags]


def red_flag_distinctive(question: "Question") -> list[frozenset[str]]:
    """Per red flag: the words of its text, cues and `says` that no key point of the question uses."""
    rubric = content_stems(" ".join(p.text for p in question.rubric))
    return [content_stems(" ".join((f.text, *f.cues, *f.says))) - rubric for f in question.red_flags]


@dataclass
class AnswerUnits:
    """The answer's sentences, then the clauses of its long ones, with their vectors."""

    sentences: list[str]
    units: list[str]
    whole: list[str]         # the sentence each unit belongs to
    sentence_of: list[int]
    vecs: np.ndarray

    @classmethod
    def build(cls, sentences: list[str], vecs: np.ndarray, owner: list[int], pieces: list[str],
              piece_vecs: np.ndarray) -> "AnswerUnits":
        sentence_of = list(range(len(sentences))) + list(owner)
        return cls(sentences=sentences, units=sentences + pieces, whole=[sentences[j] for j in sentence_of],
                   sentence_of=sentence_of, vecs=np.vstack([vecs, piece_vecs]) if pieces else vecs)


def _point_veto(answer: AnswerUnits, point_vecs: np.ndarray) -> np.ndarray:
    """Per unit, its similarity to the closest correct key point (-1 without points)."""
    if not len(point_vecs) or not len(answer.vecs):
        return np.full(len(answer.units), -1.0)
    return (answer.vecs @ point_vecs.T).max(axis=1)


def stated_misconceptions(question: "Question", answer: AnswerUnits, refs: References, correction_vecs: np.ndarray,
                          point_vecs: np.ndarray, cfg: "GradingConfig") -> list[MisconceptionResult]:
    """Misconceptions the answer states, each with the sentence that states it."""
    if not question.misconceptions or not answer.sentences:
        return []
    sims, nearest = refs.nearest(answer.vecs, len(question.misconceptions), answer.units)
    contrast = sims - answer.vecs @ correction_vecs.T
    near_point = _point_veto(answer, point_vecs)
    found = []
    for k, wrong in enumerate(question.misconceptions):
        said = first_statement(answer.sentences, wrong.cues)
        if said is None:
            ok = (contrast[:, k] >= cfg.claim_contrast) & (sims[:, k] >= near_point - cfg.claim_point_margin)
            at = best_statement(answer.units, answer.whole, np.where(ok, sims[:, k], -1.0),
                                [refs.texts[r] for r in nearest[:, k]], refs.distinctive[k], cfg)
            said = None if at is None else answer.sentences[answer.sentence_of[at]]
        if said is not None:
            found.append(MisconceptionResult(id=wrong.id, point=wrong.point, claim=wrong.claim,
                                             correction=wrong.correction, section=wrong.section, evidence=said))
    return found


def stated_red_flags(question: "Question", answer: AnswerUnits, flag_vecs: np.ndarray, refs: References,
                     point_vecs: np.ndarray, cfg: "GradingConfig") -> list[FlagResult]:
    """Red flags the answer shows: a cue, a sentence close to the flag's text, or one that reads as a `says`."""
    flags = question.red_flags
    if not flags or not answer.sentences:
        return []
    text_sims = answer.vecs[: len(answer.sentences)] @ flag_vecs.T
    sims, nearest = refs.nearest(answer.vecs, len(flags), answer.units)
    near_point = _point_veto(answer, point_vecs)
    flag_cfg = replace(cfg, claim_score=cfg.flag_score)
    found = []
    for k, flag in enumerate(flags):
        said = first_statement(answer.sentences, flag.cues)
        if said is None:
            said = _close_statement(answer.sentences, text_sims[:, k], flag.text, cfg)
        if said is None and flag.says:
            ok = sims[:, k] >= near_point - cfg.claim_point_margin
            at = best_statement(answer.units, answer.whole, np.where(ok, sims[:, k], -1.0),
                                [refs.texts[r] for r in nearest[:, k]], refs.distinctive[k], flag_cfg)
            said = None if at is None else answer.sentences[answer.sentence_of[at]]
        if said is not None:
            found.append(FlagResult(id=flag.id, text=flag.text, evidence=said))
    return found


def _close_statement(sentences: list[str], sims: np.ndarray, text: str, cfg: "GradingConfig") -> str | None:
    """The closest sentence at or above ``claim_similarity`` that is not negated where the text is not."""
    for i in np.argsort(-sims):
        if sims[i] < cfg.claim_similarity:
            return None
        if not cfg.claim_polarity or same_polarity(sentences[i], text):
            return sentences[i]
    return None
