"""The "Self-assess" tab: answer a question, rate yourself per dimension, see self vs. coach."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from coach.ui.common import RATING_CHOICES, check_input, guarded

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Question
    from coach.core import Coach


def _short(text: str, n: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[:n].rsplit(" ", 1)[0] + " …"


def question_markdown(question: "Question") -> str:
    out = [f"**{question.id}** · {question.topic} · {question.level}", "", question.prompt]
    if question.context.strip():
        out += ["", f"**Context:** {' '.join(question.context.split())}"]
    return "\n".join(out)


def build_assess_tab(coach: "Coach") -> None:
    bank = coach.bank
    questions = list(bank)
    dims = bank.rubric.dimensions
    gr.Markdown("Answer a bank question, or type one you were asked, rate yourself on each dimension, and see "
                "how the coach's grading compares. Ratings you leave empty are not compared.")
    pick = gr.Dropdown([(f"{q.id} — {_short(q.prompt, 80)}", q.id) for q in questions], allow_custom_value=True,
                       value=questions[0].id, label="Question (pick one, or type your own)", elem_id="assess-question")
    prompt = gr.Markdown(question_markdown(questions[0]), elem_id="assess-prompt", container=True)
    answer = gr.Textbox(label="Your answer", lines=8, max_lines=20, elem_id="assess-answer")
    with gr.Accordion("What the levels mean", open=False):
        rows = ["| Dimension | weak | ok | strong | staff |", "|---|---|---|---|---|"]
        rows += [f"| {d.name} | {d.weak} | {d.ok} | {d.strong} | {d.staff} |" for d in dims]
        gr.Markdown("\n".join(rows))
    radios = []
    with gr.Row():
        for d in dims:
            radios.append(gr.Radio(RATING_CHOICES, label=d.name, elem_id=f"assess-rate-{d.id}", min_width=220))
    grade = gr.Button("Grade", variant="primary", elem_id="assess-grade")
    result = gr.Markdown("", elem_id="assess-result", container=True)

    @guarded
    def on_pick(question_id: str) -> str:
        if question_id in bank.questions:
            return question_markdown(bank.get(question_id))
        return ("**Your own question** — graded against the closest bank question, or a rubric built from the "
                "guide's key points when none is close; the result says which.")

    @guarded
    def on_grade(question_id: str, text: str, *ratings: Any) -> str:
        text = check_input(coach, text, "answer")
        given = {d.id: int(r) for d, r in zip(dims, ratings) if r not in (None, "")}
        assessment = coach.assess(check_input(coach, question_id, "question"), text, given)
        return (assessment.markdown()
                + f"\n\n_Saved as session `{assessment.session_id}`; its report is on the Progress tab._")

    pick.change(on_pick, [pick], [prompt], api_name="assess_question", concurrency_limit=None)
    grade.click(on_grade, [pick, answer, *radios], [result], api_name="assess")
