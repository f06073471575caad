"""Does a sentence *state* a claim, or only mention it? Cue matching that reads negation.

Red flags and misconceptions are claims ("accuracy is fine here", "use processing time").
Matching by topic credits the opposite sentence too ("accuracy is useless here", "event time,
not processing time"), and a strong candidate who rejects the bad idea loses points for it. So a
cue fires only when (1) its words appear in order in one clause of the sentence, negation words
included (the cue "no need for batch" needs the "no"), and (2) that clause carries no rejecting
word the cue itself lacks ("not", "never", "useless", "wrong", "instead of", "hides", ...).
A semantic match (the sentence embedding close to the claim's text) is held to the same polarity
rule, since embeddings barely see negation.

Embeddings alone read topic: "shadow deployment means the model runs on mirrored traffic" is as
close to "shadow tells you how users respond" as a sentence that says so. So the semantic match
is scored (``statement_score``) with two lexical signals added to the similarity: the share of the
claim's content words the sentence (or one of its clauses) uses, and the words only the wrong claim
uses, not its correction or its key point ("free", "same", "enough"): those carry what is wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from coach.grading.matching import contains
from coach.text import STOPWORDS, stem_words, words

if TYPE_CHECKING:  # pragma: no cover
    from coach.grading.config import GradingConfig

# The bank's cues, claims and `says` alone are ~7,000 texts; a smaller cache thrashes and every
# grade re-tokenises them (the entries are a few short tuples each).
_CACHE = 65_536

# Words that turn a clause against what it names. Kept as cue words, never dropped as stopwords.
NEGATORS = frozenset("""not no never nor cannot can't don't doesn't didn't won't wouldn't shouldn't isn't aren't
    wasn't weren't hasn't haven't without avoid avoids avoiding instead rather neither none nothing""".split())
# Domain words that often mean something else ("harmful content", "false positive", "bad actors",
# "if the model fails") are left out on purpose.
REJECTORS = frozenset("""useless wrong misleading meaningless pointless mistake mistaken myth fallacy
    unreliable insufficient inadequate flawed hides hide hid impossible naive overkill irrelevant worse
    untrue coarse""".split())
_REJECTING_PHRASES = ("instead of", "rather than", "too coarse", "not enough", "no longer", "far from",
                      "does not", "do not", "is not", "are not", "would not", "should not", "will not",
                      "can not", "stop ", "get rid of", "move away from", "better than", "beats ")
_CLAUSE = re.compile(r"\s*[;:]\s+|\s+[-\u2013\u2014]+\s+|,\s*|\s+\b(?:but|because|although|though|whereas|while|since|so)\b\s+", re.I)


def _normalise(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("n't", " not").replace("cannot", "can not")


# Quantifiers change what a claim says ("english only", "score all pairs", "same model"): kept too.
QUANTIFIERS = frozenset("only all same most every always just any each both more less".split())


@lru_cache(maxsize=_CACHE)
def claim_tokens(text: str) -> tuple[str, ...]:
    """Stems of a cue or clause, keeping negation words and quantifiers (other stopwords dropped)."""
    toks = [t for t in words(_normalise(text)) if t not in STOPWORDS or t in NEGATORS or t in QUANTIFIERS]
    return tuple(stem_words(toks))


_NEGATOR_STEMS = frozenset(stem_words(sorted(NEGATORS)))
_REJECTOR_STEMS = frozenset(stem_words(sorted(REJECTORS)))


@lru_cache(maxsize=_CACHE)
def polarity_words(text: str) -> Counter[str]:
    """Negating and rejecting stems (and phrases) found in ``text``, counted ("not ... don't" is two)."""
    low = f" {_normalise(text)} "
    found = Counter(t for t in claim_tokens(text) if t in _NEGATOR_STEMS or t in _REJECTOR_STEMS)
    found.update(p.strip() for p in _REJECTING_PHRASES if f" {p}" in low)
    return found


@lru_cache(maxsize=_CACHE)
def _token_set(text: str) -> frozenset[str]:
    return frozenset(claim_tokens(text))


@lru_cache(maxsize=_CACHE)
def _rejector_words(text: str) -> Counter[str]:
    return Counter(t for t in claim_tokens(text) if t in _REJECTOR_STEMS)


@lru_cache(maxsize=_CACHE)
def clauses(sentence: str) -> tuple[str, ...]:
    parts = tuple(p for p in _CLAUSE.split(sentence) if p and p.strip())
    return parts or (sentence,)


def rejects(clause: str, claim: str) -> bool:
    """The clause carries a negating or rejecting word that the claim itself does not."""
    return bool(polarity_words(clause) - polarity_words(claim))


def states_cue(sentence: str, cue: str) -> bool:
    """``sentence`` asserts ``cue``: its words in order within one clause, and that clause not against it.

    Negation is read in the cue's own clause ("we don't worry, accuracy is fine" states it); a
    rejecting word anywhere in the sentence counts ("accuracy looks good, so it is useless here").
    """
    cue_toks = claim_tokens(cue)
    if not cue_toks or not _token_set(cue) <= _token_set(sentence):  # fast exit: a clause's words are the sentence's
        return False
    if _rejector_words(sentence) - _rejector_words(cue):
        return False
    for clause in clauses(sentence):
        if contains(claim_tokens(clause), cue_toks) and not rejects(clause, cue):
            return True
    # A cue that spans a comma ("accuracy, which is fine") is matched on the whole sentence.
    return contains(claim_tokens(sentence), cue_toks) and not rejects(sentence, cue)


def first_statement(sentences: list[str], cues: list[str]) -> str | None:
    """The first sentence that states any of ``cues``."""
    for sentence in sentences:
        if any(states_cue(sentence, cue) for cue in cues):
            return sentence
    return None


@lru_cache(maxsize=_CACHE)
def stance(text: str) -> tuple[int, bool, int]:
    """(parity, any, count) of the negating and rejecting words in ``text``: what the stance checks read."""
    n = sum(polarity_words(text).values())
    return n % 2, n > 0, n


def same_polarity(sentence: str, claim: str) -> bool:
    """For a semantic match: the sentence is not negated or rejected where the claim is not, and vice versa."""
    return stance(sentence)[:2] == stance(claim)[:2]


_FUNCTION_STEMS = frozenset(stem_words(sorted(NEGATORS | QUANTIFIERS)))


@lru_cache(maxsize=_CACHE)
def content_stems(text: str) -> frozenset[str]:
    """Stems that carry a text's content: negation words and quantifiers left out (polarity reads those)."""
    return frozenset(claim_tokens(text)) - _FUNCTION_STEMS


def claim_overlap(unit: str, claim: str) -> float:
    """Share of the claim's content stems that ``unit`` uses (0..1)."""
    mine = content_stems(claim)
    return len(mine & content_stems(unit)) / len(mine) if mine else 0.0


@lru_cache(maxsize=_CACHE)
def distinctive_stems(claim: str, cues: tuple[str, ...], correction: str, point: str) -> frozenset[str]:
    """Content stems of a misconception (claim and cues) that its correction and key point never use."""
    wrong = content_stems(" ".join((claim, *cues)))
    return wrong - content_stems(f"{correction} {point}")


def statement_score(similarity: float, unit: str, claim: str, distinctive: frozenset[str],
                    overlap_weight: float, word_bonus: float, max_words: int = 2) -> float:
    """Similarity to the claim plus the lexical evidence that ``unit`` says it (see the module note)."""
    words_used = len(distinctive & content_stems(unit))
    return similarity + overlap_weight * claim_overlap(unit, claim) + word_bonus * min(words_used, max_words)


def rejected(sentence: str, claim: str) -> bool:
    """``sentence`` carries a rejecting word ("wrong", "useless", "myth") that the claim does not.

    Checked on the whole sentence when a clause of it matches: "accuracy is fine, but that is a
    myth here" does not state that accuracy is fine.
    """
    return bool(_rejector_words(sentence) - _rejector_words(claim))


def keeps_stance(unit: str, claim: str) -> bool:
    """``same_polarity``, and no more negating words than the claim: "it is not true that X isn't
    needed" has the parity of "X isn't needed" but says the opposite."""
    return same_polarity(unit, claim) and stance(unit)[2] <= stance(claim)[2]


def best_statement(units: list[str], whole: list[str], sims: np.ndarray, claim: str | list[str],
                   distinctive: frozenset[str], cfg: "GradingConfig") -> int | None:
    """Index of the unit (sentence or clause) that states ``claim``, or None.

    ``sims`` holds each unit's similarity to the claim (-1 where the caller ruled it out); ``claim``
    may be one text per unit (the wording of the claim closest to that unit: the claim itself or
    one of the ways candidates say it). The unit with the best ``statement_score`` at or above
    ``cfg.claim_score`` counts when it keeps that wording's stance (``keeps_stance``) and its
    sentence, ``whole[i]``, carries no rejecting word the wording lacks.
    """
    claims = [claim] * len(units) if isinstance(claim, str) else claim
    reach = cfg.claim_overlap + cfg.claim_word_bonus * 2  # the most the lexical signals can add
    scored = [(statement_score(float(sims[i]), units[i], claims[i], distinctive, cfg.claim_overlap,
                               cfg.claim_word_bonus), i)
              for i in np.flatnonzero(sims >= cfg.claim_score - reach)]
    for score, i in sorted(scored, key=lambda t: -t[0]):
        if score < cfg.claim_score:
            return None
        if not cfg.claim_polarity or (keeps_stance(units[i], claims[i]) and not rejected(whole[i], claims[i])):
            return int(i)
    return None
