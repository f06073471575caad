"""The shape of a learner's question, and an answer composed for it from guide sentences.

"What is X" wants a definition first; "X vs Y" one statement per side, each from that side's own
passage (a small table for three or more sides); "how do I" ordered steps; "when / why"
conditions and reasons; "what threshold / how much" the numbers. The answer opens with 1-3
sentences that answer directly, then up to four supporting bullets, every one a whole sentence
of the guide with its citation. Sentences from the side lists of a section (what interviewers
probe, common mistakes) are left out unless the question asks for mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SHAPES = ("definition", "comparison", "how-to", "when-why", "numbers", "mistakes", "general")

_COMPARISON = re.compile(r"\b(vs\.?|versus|difference between|differ|compare[ds]?|comparison|or)\b", re.I)
_SIDE_SPLIT = re.compile(r"\s*(?:\bvs\.?|\bversus\b|,|\band\b|\bor\b|(?<!\b[a-z])/(?![a-z]\b))\s*", re.I)  # not A/B
_SIDE_LEAD = re.compile(r"^(what(?:'s| is| are)?( the)? difference(s)? between|difference(s)? between|how (do|does) |"
                        r"compare|when (should|would|do) i (use|pick|choose)|should i use|which is better[,:]?|"
                        r"what are|what is|explain|is)\s+", re.I)
_SIDE_TAIL = re.compile(r"\s*(\?|\bdiffer\b.*|\bcompare\b.*|\bfor\b.*|\bin\b.*|\bwhen\b.*|\bbetter\b.*)$", re.I)

_CLAUSE = re.compile(r"^(which|what|when|how|why|should|do|does|is|are)\b", re.I)

_PATTERNS = [
    ("mistakes", re.compile(r"\b(mistakes?|pitfalls?|go(es)? wrong|anti-?patterns?|avoid)\b", re.I)),
    ("how-to", re.compile(r"(^\s*|[,;:.?]\s*)(how (do|should|can|could|would) (i|we|you)|how to|steps|walk me through)\b|"
                          r"\bwhat (should|can|do) (i|we|my [a-z]+|the [a-z]+(?: [a-z]+)?) (do|log|use|track|monitor|"
                          r"check|measure|serve|cache|autoscale)\b|\bhow (do|can|could|would) (i|we) (prevent|avoid|fix|"
                          r"claw|cut|reduce|decide)\b|\bhow are .+ (set|generated|chosen|built|trained)\b|"
                          r"\bwhat checks\b|\bwhat (metric|signal) should\b", re.I)),
    ("numbers", re.compile(r"\b(what (value|threshold|number|size|percentage|rate)|how (much|many|long|big|often)|"
                           r"threshold|rule of thumb|formula|budget|cut-?off)\b|"
                           r"\bwhat (\w+ )?(thresholds|latency|throughput|numbers|values|chunk size|loss|top-k)\b|"
                           r"\bhow is .+ (computed|calculated)\b", re.I)),
    ("when-why", re.compile(r"^\s*(when|why|should i|is it worth|in which cases)\b|[,;:.?]\s*why\b|"
                            r"\bwhat (could|would|might) (have )?happen|\bwhat happens\b|"
                            r"\bshould (it|we|i|this|that) (ship|build|buy|be)\b|\bis (it|that|this) (safe|worth|enough)\b|"
                            r"\bwhy (not|is|are|do|does|aren't|isn't|prioriti[sz]e)\b|\bcan i just\b", re.I)),
    ("definition", re.compile(r"^\s*(what('s| is| are| does)|define|meaning of|explain)\b|"
                              r"^\s*[\w/-]+(?: [\w/-]+){0,4}\s*$", re.I)),
]

# Words that signal the kind of sentence each shape wants first.
_CUES = {
    "definition": re.compile(r"\b(is an?|is the|are the|means|measures|refers to|describes|is when)\b", re.I),
    "how-to": re.compile(r"\b(first|then|start|use|set|compute|log|train|split|compare|add|keep|build|run)\b", re.I),
    "when-why": re.compile(r"\b(because|when|if|so that|otherwise|unless|since|which means)\b", re.I),
    "numbers": re.compile(r"\d"),
    "mistakes": re.compile(r"\b(mistake|wrong|instead|not|never|avoid|misleading|fails?)\b", re.I),
}


_FOLLOW_LEAD = re.compile(r"^\s*(and|but|so|also|then|ok(ay)?|what about|how about)\b[,]?\s*", re.I)
_PRONOUN = re.compile(r"\b(it|its|this|that|these|those|they|them|one|the two|both|former|latter)\b", re.I)


def is_follow_up(question: str) -> bool:
    """A turn that leans on the previous one: "and how do I alert on it?", "what about for images?"."""
    q = question.strip()
    return bool(_FOLLOW_LEAD.match(q)) or (len(q.split()) <= 11 and bool(_PRONOUN.search(q)))


def question_shape(question: str) -> str:
    """The first shape whose pattern fits; a comparison needs two sides."""
    question = _FOLLOW_LEAD.sub("", question)
    if len(comparison_sides(question)) >= 2:
        return "comparison"
    for shape, pattern in _PATTERNS:
        if pattern.search(question):
            return shape
    return "general"


def comparison_sides(question: str) -> list[str]:
    """The things compared in "X vs Y", "difference between A, B and C" (empty when not a comparison)."""
    q = " ".join(question.strip().split())
    if not _COMPARISON.search(q):
        return []
    body = _SIDE_TAIL.sub("", _SIDE_LEAD.sub("", q.rstrip("?")))
    sides = [s.strip(" .:;'\"") for s in _SIDE_SPLIT.split(body)]
    sides = [s for s in sides if s and len(s.split()) <= 6 and s.lower() not in {"the", "a", "an", "it", "them"}
             and not _CLAUSE.match(s)]  # "..., which should I monitor?" asks, it is not a side
    if not re.search(r"\b(vs\.?|versus|difference|differ|compare)\b", q, re.I) and len(sides) != 2:
        return []  # a bare "or" is a comparison only between two short things
    return sides if 2 <= len(sides) <= 5 else []


def shape_bonus(shape: str, sentence: str) -> float:
    """Relevance bonus for a sentence that has what the shape wants first."""
    cue = _CUES.get(shape)
    return 0.12 if cue is not None and cue.search(sentence) else 0.0


@dataclass
class Picked:
    n: int          # citation number
    text: str       # a whole sentence of the guide


def render(shape: str, direct: list[Picked], support: list[Picked], sides: dict[str, Picked] | None = None) -> str:
    """Markdown: the direct answer, then up to four bullets (a table for 3+ compared sides)."""
    out: list[str] = []
    if shape == "comparison" and sides:
        if direct:  # a quick answer that compares them leads; each side's own statement follows
            out += [" ".join(f"{p.text} [{p.n}]" for p in direct), ""]
        if len(sides) >= 3:
            out += ["| Option | What the guide says |", "|---|---|"]
            out += [f"| {name} | {p.text.replace('|', '&#124;')} [{p.n}] |" for name, p in sides.items()]
        else:
            out.append(" ".join(f"**{name}:** {p.text} [{p.n}]" for name, p in sides.items()))
    else:
        out.append(" ".join(f"{p.text} [{p.n}]" for p in direct))
    if support:
        out.append("")
        if shape == "how-to":
            out += [f"{i}. {p.text} [{p.n}]" for i, p in enumerate(support, start=1)]
        else:
            out += [f"- {p.text} [{p.n}]" for p in support]
    return "\n".join(out).strip()
