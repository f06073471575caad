"""Plain-text and Markdown renderings of grades and sessions (shared by the CLI and the web app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from coach.grading.results import GradeResult


def _bar(score: int, width: int = 20) -> str:
    filled = round(width * score / 100)
    return "█" * filled + "░" * (width - filled)


def grade_text(result: "GradeResult") -> str:
    """A terminal-friendly critique: score, dimensions, covered and missed points, red flags."""
    lines = []
    if result.rubric_source == "guide":
        lines.append(f"Question: {result.matched_question}")
        lines.append(f"(no bank question matched closely enough, best {result.match_score:.2f}; rubric built from "
                     f"the guide: {result.question_id.removeprefix('guide:').replace('+', ', ')})")
    elif result.rubric_source == "model":
        lines.append(f"Question: {result.matched_question}")
        lines.append(f"(no bank question matched closely enough, best {result.match_score:.2f}; rubric drafted by the "
                     "configured model and validated; shown below)")
    elif result.match_score < 1.0:
        lines.append(f"Matched bank question {result.question_id} (similarity {result.match_score:.2f}):")
        lines.append(f"  {result.matched_question}")
    else:
        lines.append(f"Question {result.question_id}: {result.matched_question}")
    lines.append("")
    lines.append(f"Score {result.score}/100 — {result.band}")
    lines.append(result.feedback["summary"])
    for note in result.feedback["notes"]:
        lines.append(f"! {note}")
    lines.append("")
    lines.append("By dimension:")
    for dim, info in result.dimensions.items():
        lines.append(f"  {info['name']:<46} {_bar(info['score'])} {info['score']:>3}  ({info['covered']}/{info['points']})")
    lines.append("")
    covered = [p for p in result.points if p.covered]
    missed = [p for p in result.points if not p.covered]
    if covered:
        lines.append("Covered:")
        for p in covered:
            mentioned = p.level == "mentioned"
            lines.append(f"  {'◐' if mentioned else '✓'} {p.text}" + ("  (mentioned: half credit)" if mentioned else ""))
            lines.append(f"      you said: \"{' '.join((p.evidence or '').split())}\"")
            if mentioned:
                lines.append("      to lift it: say why, how or how much")
    if missed:
        lines.append("Missed:")
        for p in sorted(missed, key=lambda p: -p.weight):
            lines.append(f"  ✗ {p.text}")
            if p.closest:
                lines.append(f"      closest you came (not clear enough to count): \"{' '.join(p.closest.split())}\"")
            lines.append(f"      study: {', '.join(p.sections)}")
    if result.misconceptions:
        lines.append("Misconceptions:")
        for m in result.misconceptions:
            lines.append(f"  ✗ you said: \"{' '.join(m.evidence.split())[:160]}\"")
            lines.append(f"      in fact: {m.correction} (see {m.section})")
    if result.red_flags:
        lines.append("Red flags:")
        for f in result.red_flags:
            lines.append(f"  ⚑ {f.text} — \"{' '.join(f.evidence.split())[:160]}\"")
    return "\n".join(lines)
