"""Small text utilities shared by retrieval, grading and answer checking."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:[.\-'][a-z0-9]+)*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*[-*•]\s+|\n{2,}|\n(?=\s*\d+[.)]\s)")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves i'd i'll i'm i've let's we'd we'll
    we're we've it's that's there's what's""".split()
)


_SURROGATE = re.compile("[\ud800-\udfff]")
# A fenced Markdown block (```...```), or an unclosed one to the end of the text.
FENCED_BLOCK = re.compile(r"```.*?(```|\Z)", re.S)


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD.

    They arrive from JSON (``"\\ud800"``) and from undecodable bytes in argv (surrogateescape), and
    no UTF-8 consumer (SQLite, the tokenizer, the terminal) accepts them.
    """
    if not isinstance(text, str) or not _SURROGATE.search(text):
        return text
    # UTF-16 joins a high + low pair into its character and turns every lone half into U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def stem_words(tokens: list[str]) -> list[str]:
    """Snowball stems of already tokenised words (cached per word: the guide's vocabulary repeats)."""
    return [_stem(t) for t in tokens]


def words(text: str) -> list[str]:
    """Lower-cased word tokens (keeps things like p99, a/b -> a, b, pr-auc)."""
    return _WORD.findall(text.lower())


def stems(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Stemmed tokens for lexical matching (BM25, cue matching)."""
    toks = words(text)
    if not keep_stopwords:
        toks = [t for t in toks if t not in STOPWORDS]
    return stem_words(toks)


def sentences(text: str) -> list[str]:
    """Split prose (and bullet lists) into sentences, dropping empty pieces."""
    parts = _SENTENCE_SPLIT.split(text.strip())
    return [p.strip(" \t\n-*•") for p in parts if p and p.strip(" \t\n-*•")]
