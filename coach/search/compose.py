"""Choosing the guide sentences that answer a question, and the order they are shown in.

Every candidate is a whole sentence of a retrieved passage. Its relevance adds up what a reader
would check: is it about the question (embedding similarity), does it use the question's own
terms, rare ones weighing most (IDF), is it the kind of sentence the shape wants (a number for
"what threshold", a definition for "what is"), does it come from a passage that matched the
question well, and how high that passage ranked. Sentences about the interview itself
("interviewers ask this because ...") and side lists (probes, mistakes) lose unless the question
asks about them. A compared side is answered by a sentence that names it, preferably one that
starts with it. Picks after the first must add content words the answer does not have yet. A
sentence that leans on the one before it ("They are also where the worst bugs live") is shown
after that sentence, so no quote reads as if it had lost its subject. When a section's authored
"Quick answers" holds the learner's question in other words, that answer leads (``quick_lead``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from coach.search.answer_shapes import Picked, shape_bonus

_META = re.compile(r"\binterview(s|er|ers|ed)?\b|\bthis (section|page|chapter)\b", re.I)

# Relevance weights, tuned on the dev split of evals/data/ask_questions.yaml.
W_TERMS = 0.6        # share of the question's IDF weight the sentence contains
W_PASSAGE = 0.5      # the dense similarity of the sentence's passage with the question
META_PENALTY = 0.25  # a sentence about interviews when the question is not
NOVELTY = 0.25       # per share of the sentence's content stems already in the answer
DIRECT = 3           # sentences of the direct answer (2 for how-to: the steps follow)
DIRECT_HOW_TO = 2
W_HEAD = 0.6         # share of the question's IDF weight in the passage's heading path
SPREAD = 1.2         # a sentence scoring this far below the best one is not shown
W_FIT = 1.0          # per unit of passage fit (similarity + IDF coverage of heading and sentences)
# Per unit of log(citation number): passages are numbered in fused rank order (dense and BM25 agree best
# at the top), which the other terms did not see. On the 97 dev questions the weights above were tuned
# on: 216 -> 217 of 251 facts; on 50 questions written later and not tuned on: 83 -> 90 of 122
# (0.1-0.3 and a linear or 1/n form all gave 88-90).
W_RANK = 0.2
# A quick answer leads when its question is at least this close to the learner's (see quick_lead). Dev split,
# key facts (307/373 before the guide had quick answers; 312 with them and no lead): 0.70 -> 315, 0.65 -> 318,
# 0.60 -> 320. 0.65, because from 0.60 to 0.65 "what should my system serve when the model server is down?"
# is led by "Which model server should I pick ...?".
QUICK_MATCH = 0.65


@dataclass
class Units:
    """The candidate sentences of one answer and what is known about each."""

    cites: list[int]                 # citation number of each sentence's passage
    texts: list[str]
    vecs: np.ndarray                 # unit-normalised sentence embeddings
    stems: list[set[str]]
    before: list[int | None] | None = None  # the unit that is the sentence right before it in its passage


# A sentence opening with one of these leans on the sentence before it ("These change within minutes").
_LEANS_BACK = re.compile(r"^(this|these|they|it|its|that|those|such|both|the two|here)\b", re.I)


def coverage(weights: dict[str, float], stems: set[str]) -> float:
    """Share of the IDF weight of ``weights``' terms that ``stems`` contains."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in stems) / total if total else 0.0


@dataclass
class Passage:
    """What the ranking knows about one retrieved passage."""

    similarity: float                # dense similarity of the whole chunk with the question
    heading: set[str]                # stems of its heading path ("Estimating position bias")
    side_list: bool = False          # a "What interviewers probe" / "Common mistakes" list
    asks: str = ""                   # for a section's quick answer: the question it answers


def quick_lead(asks: dict[int, str], ask_vecs: np.ndarray, q_vec: np.ndarray) -> int | None:
    """The citation number of the quick answer whose question is closest to the learner's, when
    it is at least ``QUICK_MATCH`` close; ``asks`` maps citation numbers to those questions."""
    if not asks:
        return None
    sims = ask_vecs @ q_vec
    best = int(np.argmax(sims))
    return list(asks)[best] if float(sims[best]) >= QUICK_MATCH else None


def relevance(question: str, shape: str, units: Units, q_vec: np.ndarray, weights: dict[str, float],
              passages: dict[int, Passage]) -> np.ndarray:
    """One score per candidate sentence (higher answers the question better)."""
    asks_interview = bool(_META.search(question))
    penalty = 0.0 if shape == "mistakes" else 1.0  # probe and mistake lists only when mistakes are asked
    fit = passage_fit(units, weights, passages)
    return np.array([
        float(units.vecs[i] @ q_vec) + W_TERMS * coverage(weights, units.stems[i]) + shape_bonus(shape, text)
        + W_PASSAGE * passages[n].similarity + W_HEAD * coverage(weights, passages[n].heading)
        + W_FIT * fit[n] - W_RANK * math.log(n)
        - (penalty if passages[n].side_list else 0.0)
        - (META_PENALTY if not asks_interview and _META.search(text) else 0.0)
        for i, (n, text) in enumerate(zip(units.cites, units.texts))])


def passage_fit(units: Units, weights: dict[str, float], passages: dict[int, Passage]) -> dict[int, float]:
    """How well each passage matches the question: close in meaning, its heading and sentences
    holding the question's rare terms."""
    terms: dict[int, set[str]] = {}
    for n, st in zip(units.cites, units.stems):
        terms.setdefault(n, set(passages[n].heading)).update(st)
    return {n: passages[n].similarity + coverage(weights, t) for n, t in terms.items()}


def names_side(side_stems: list[str], sentence_stems: set[str]) -> float:
    """Share of a compared side's stems that a sentence uses (1.0: it names the side)."""
    return sum(s in sentence_stems for s in side_stems) / len(side_stems) if side_stems else 0.0


class Picker:
    """Takes sentences one by one, skipping near-duplicates of those already taken."""

    def __init__(self, units: Units) -> None:
        self.units = units
        self.used: list[int] = []
        self.seen: set[str] = set()

    def fresh(self, i: int) -> bool:
        return i not in self.used and all(float(self.units.vecs[i] @ self.units.vecs[j]) < 0.9 for j in self.used)

    def novelty(self, i: int) -> float:
        """Share of the sentence's content stems the answer does not have yet."""
        own = self.units.stems[i]
        return len(own - self.seen) / len(own) if own else 0.0

    def take(self, i: int) -> Picked:
        self.used.append(i)
        self.seen |= self.units.stems[i]
        return Picked(n=self.units.cites[i], text=self.units.texts[i])

    def antecedent(self, i: int) -> int | None:
        """The sentence a picked one leans on ("They are also where the worst bugs live"), when the
        passage has it right before and the answer does not show it yet."""
        before = self.units.before[i] if self.units.before else None
        if before is None or before in self.used or not _LEANS_BACK.match(self.units.texts[i]):
            return None
        return before

    def take_passage(self, n: int) -> list[Picked]:
        """Every sentence of passage ``n``, in order (an authored quick answer is read as written)."""
        return [self.take(i) for i, cite in enumerate(self.units.cites) if cite == n and i not in self.used]

    def take_whole(self, i: int) -> tuple[Picked, int]:
        """The sentence, led by its antecedent when it leans on one; also how many sentences that is."""
        before = self.antecedent(i)
        picked = self.take(i)
        if before is None:
            return picked, 1
        self.take(before)
        return Picked(n=picked.n, text=f"{self.units.texts[before]} {picked.text}"), 2

    def best(self, scores: np.ndarray, floor: float = -0.5) -> int | None:
        """The freshest high scorer: its score less a penalty for repeating what is already said."""
        options = [(float(scores[i]) - NOVELTY * (1.0 - self.novelty(i)), i)
                   for i in range(len(scores)) if scores[i] > floor and self.fresh(i)]
        return max(options)[1] if options else None


def pick_sides(picker: Picker, sides: list[str], side_vecs: np.ndarray, side_stems: list[list[str]],
               rel: np.ndarray, side_passages: dict[str, int]) -> dict[str, Picked]:
    """One sentence per compared side: one that names the side (ideally opening with it), close in
    meaning to it, relevant to the whole question, from the side's own passage when it has one.
    A side no candidate sentence names is left out rather than answered with an unrelated one."""
    units = picker.units
    picked: dict[str, Picked] = {}
    for side, s_vec, own_stems in zip(sides, side_vecs, side_stems):
        own = side_passages.get(side)
        scored = []
        for i in range(len(units.texts)):
            named = names_side(own_stems, units.stems[i])
            if named < 0.5 or not picker.fresh(i):
                continue
            opens = units.texts[i].lower().startswith(side.lower())
            scored.append((float(units.vecs[i] @ s_vec) + 1.0 * named + 0.4 * float(rel[i]) + 0.2 * opens
                           + shape_bonus("definition", units.texts[i]) + (0.2 if units.cites[i] == own else 0.0), i))
        if scored:
            picked[side] = picker.take(max(scored)[1])
    return picked


def compose(shape: str, units: Units, rel: np.ndarray, picked_sides: dict[str, Picked], picker: Picker,
            support_count: int = 4, lead: list[Picked] | None = None) -> tuple[list[Picked], list[Picked]]:
    """The direct answer (``lead``, a quick answer already taken, when there is one; skipped when
    the sides answer it) and up to four supporting sentences; how-to steps keep the guide's order."""
    floor = max(-0.5, float(rel.max()) - SPREAD) if len(rel) else 0.0  # filler from a passage that barely matched stays out
    direct: list[Picked] = list(lead or [])
    if not picked_sides and not direct:
        room = int(DIRECT_HOW_TO if shape == "how-to" else DIRECT)  # sentences, an antecedent included
        while room > 0 and (i := picker.best(rel, floor)) is not None:
            if room == 1 and picker.antecedent(i) is not None and direct:
                break  # no room for the sentence it leans on: the bullets follow
            picked, used = picker.take_whole(i)
            direct.append(picked)
            room -= used
    rows: list[tuple[int, Picked]] = []
    while len(rows) < support_count and (i := picker.best(rel, floor)) is not None:
        rows.append((i, picker.take_whole(i)[0]))
    if shape == "how-to":  # steps in the order the guide gives them
        rows.sort(key=lambda r: r[0])
    return direct, [picked for _, picked in rows]
