"""The fallback rubric for a question no bank question matches, built from guide sections."""

from __future__ import annotations

from coach.text import sentences


_SKIP_HEADINGS = {"what interviewers probe", "common mistakes", "related sections", "worked example"}


def h2_points(body: str) -> list[tuple[str, str]]:
    """(heading, first sentence) for each content H2 of a section."""
    out = []
    for block in body.split("\n## ")[1:]:
        heading, _, rest = block.partition("\n")
        heading = heading.strip()
        if heading.lower() in _SKIP_HEADINGS or heading.lower().startswith("trade-off"):
            continue
        prose = [s for s in sentences(rest) if not s.startswith("|") and len(s.split()) > 5]
        if prose:
            out.append((heading, prose[0]))
    return out


_DIMENSION_WORDS = {
    "metrics": ["metric", "auc", "precision", "recall", "ndcg", "ctr"],
    "data": ["label", "data", "sampling", "annotat"],
    "features": ["feature", "embedding", "encoding"],
    "modeling": ["model", "training", "loss", "architecture"],
    "serving": ["latency", "serving", "cache", "throughput", "batch", "qps"],
    "monitoring": ["monitor", "drift", "alert", "rollout", "canary", "a/b", "retrain"],
    "tradeoffs": ["trade-off", "cost", "versus", " vs"],
}


def guess_dimension(text: str) -> str:
    low = text.lower()
    scores = {d: sum(low.count(w) for w in ws) for d, ws in _DIMENSION_WORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] else "framing"
