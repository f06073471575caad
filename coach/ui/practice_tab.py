"""Practice tab: pose a question, stream the interviewer's follow-ups, show the critique card.

Beside the answer box, a whiteboard takes a Mermaid flowchart (or 'a -> b' lines) with a live
preview; the stage indicator and the countdown come from the session's time plan.

Every handler asks ``coach.engine`` and renders what it returns; the transcript shown is rebuilt
from the stored session, so the page never holds state the store does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

import gradio as gr

from coach.errors import CoachError
from coach.practice.whiteboard import mermaid_block, read_diagram
from coach.ui.common import (
    LEVEL_CHOICES, TOPIC_CHOICES, ReportFiles, as_text, check_input, guarded, no_images, none_if_any, toast, user_of,
)

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach
    from coach.practice.engine import SessionView
    from coach.practice.interviewer import StageClock

CARD_PLACEHOLDER = "_The critique card appears here when you finish (press **I'm done**)._"
CRITIQUE_IN_CARD = "Here is my critique: see the card beside the chat."
_ROLE = {"coach": "assistant", "candidate": "user"}


@dataclass
class PracticeTab:
    """The components other tabs may drive (Progress starts a recommended question here)."""

    session_id: gr.State
    deadline: gr.State
    chat: gr.Chatbot
    info: gr.Markdown
    card: gr.Markdown
    download: gr.DownloadButton
    session_box: gr.Textbox
    message: gr.Textbox
    timer: gr.Timer | None
    timer_text: gr.Markdown | None
    stage_text: gr.Markdown
    diagram: gr.Textbox
    diagrams: tuple[gr.Markdown, gr.Markdown]  # the candidate's and the model answer's, side by side
    start_with: Callable[[str, str], dict[Any, Any]] | None = None  # (question id, user) -> updates

    @property
    def outputs(self) -> list[Any]:
        """Every component a start / resume / turn handler may update (chat first, for API callers)."""
        extra = [self.timer, self.timer_text] if self.timer is not None else []
        return [self.chat, self.info, self.card, self.download, self.session_box, self.message,
                self.session_id, self.deadline, self.stage_text, self.diagram, *self.diagrams, *extra]


def transcript_messages(view: "SessionView") -> tuple[list[dict[str, str]], str]:
    """Chat messages for a stored session, and the stored critique card (empty if none yet)."""
    messages: list[dict[str, str]] = []
    card = ""
    for role, kind, content in view.transcript:
        if kind == "critique":
            card = content
            messages.append({"role": "assistant", "content": CRITIQUE_IN_CARD})
            continue
        if role == "candidate":
            content = as_text(content)  # shown as typed: no image, link or HTML from a user is rendered
        elif kind == "question":
            content = f"**Question** ({view.topic}, {view.level})\n\n{content}"
        else:
            content = no_images(content)
        messages.append({"role": _ROLE.get(role, "assistant"), "content": content})
    return messages, card


def info_line(view: "SessionView") -> str:
    status = "finished" if view.status != "active" else f"{view.follow_ups_left} follow-up(s) left"
    against = f"_{view.graded_against}_  \n" if view.graded_against else ""
    return (f"**Session** `{view.session_id}` · {view.question_id} · {view.topic} · {view.level} · {status}  \n"
            + against + "Answer in the box below (draw on the whiteboard if it helps), ask a clarifying question, "
            "or press **I'm done** for the critique.")


def stage_line(clock: "StageClock | None", now: float | None = None) -> str:
    """'Stage 2 of 4 · High-level design · 05:12 left in this stage' (the plan, not a hard limit)."""
    if clock is None or clock.status != "active":
        return ""
    left = int(round(clock.stage_ends_at - (time.time() if now is None else now)))
    shown = f"{max(left, 0) // 60:02d}:{max(left, 0) % 60:02d} left in this stage" if left > 0 else "over its time"
    return f"**Stage {clock.stage_number} of 4** · {clock.stage_title} · {shown}"


def countdown_text(deadline: float | None, now: float | None = None) -> str:
    if deadline is None:
        return ""
    left = int(round(deadline - (time.time() if now is None else now)))
    if left <= 0:
        return "⏰ **Time's up** — your next answer gets the critique."
    return f"⏱ **{left // 60:02d}:{left % 60:02d}** left"


def model_diagram(model_answer: str) -> str:
    """The model answer's own diagram (its first ```mermaid block), if it has one."""
    start = model_answer.find("```mermaid")
    end = model_answer.find("```", start + 10) if start >= 0 else -1
    return model_answer[start:end + 3] if start >= 0 and end > start else ""


def preview(source: str) -> str:
    """Live whiteboard preview: the rendered diagram, or what is wrong with it."""
    if not source or not source.strip():
        return "_Your diagram appears here._"
    try:
        return mermaid_block(read_diagram(source))
    except CoachError as exc:
        return f"_{as_text(str(exc))}_"


def build_practice_tab(coach: "Coach", reports: ReportFiles) -> PracticeTab:
    server = coach.settings.server
    show_timer = server.show_timer

    with gr.Row():
        topic = gr.Dropdown(TOPIC_CHOICES, value="any", label="Topic", elem_id="practice-topic")
        level = gr.Dropdown(LEVEL_CHOICES, value="any", label="Level", elem_id="practice-level")
        weakest = gr.Checkbox(label="Weakest area", value=False, elem_id="practice-weakest",
                              info="Pick the question that trains your weakest dimension.")
        start = gr.Button("Start", variant="primary", elem_id="practice-start")
    with gr.Accordion("Or practise a question you were asked", open=False, elem_id="practice-own"):
        with gr.Row():
            own = gr.Textbox(label="Your question", scale=4, elem_id="practice-own-question",
                             placeholder="Paste it in the interviewer's words; it is graded against the closest bank "
                                         "question, or a rubric built from the guide")
            start_own = gr.Button("Start with my question", elem_id="practice-start-own", scale=1)
    info = gr.Markdown("Choose a topic and a level, then press **Start**.", elem_id="practice-info")
    with gr.Row():
        stage_text = gr.Markdown("", elem_id="practice-stage")
        timer_text = gr.Markdown("", elem_id="practice-timer") if show_timer else None
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat = gr.Chatbot(label="Interview", elem_id="practice-chat", height=520, buttons=["copy"],
                              feedback_options=None, group_consecutive_messages=False)
            message = gr.Textbox(label="Your answer", lines=4, max_lines=12, elem_id="practice-input",
                                 placeholder="An answer, or a clarifying question ('What is the latency budget?')")
            with gr.Accordion("Whiteboard (a Mermaid flowchart, or one 'a -> b' arrow per line)", open=False,
                              elem_id="whiteboard"):
                with gr.Row():
                    diagram = gr.Textbox(label="Diagram", lines=6, max_lines=20, elem_id="practice-diagram",
                                         placeholder="flowchart LR\n  E[Events] --> S[Stream processor]\n"
                                                     "  S -->|features| F[(Feature store)]")
                    drawn = gr.Markdown("_Your diagram appears here._", elem_id="practice-diagram-preview")
            with gr.Row():
                send = gr.Button("Send", variant="primary", elem_id="practice-send")
                done = gr.Button("I'm done", elem_id="practice-done")
        with gr.Column(scale=2):
            card = gr.Markdown(CARD_PLACEHOLDER, elem_id="critique-card", container=True)
            download = gr.DownloadButton("Download report", elem_id="report-download")
    with gr.Row():
        yours = gr.Markdown("", elem_id="critique-your-diagram")
        theirs = gr.Markdown("", elem_id="critique-model-diagram")
    with gr.Accordion("Resume a session", open=False):
        with gr.Row():
            session_box = gr.Textbox(label="Session id", elem_id="practice-session-id", scale=3,
                                     placeholder="Paste a session id from the Progress tab")
            resume = gr.Button("Resume", elem_id="practice-resume", scale=1)

    session_id = gr.State(None)
    deadline = gr.State(None)
    timer = gr.Timer(1, active=False) if show_timer else None
    tab = PracticeTab(session_id, deadline, chat, info, card, download, session_box, message, timer, timer_text,
                      stage_text, diagram, (yours, theirs))
    diagram.change(preview, [diagram], [drawn], show_progress="hidden", concurrency_limit=None,
                   api_visibility="undocumented")

    def side_by_side(view: "SessionView", finished: bool) -> dict[Any, Any]:
        if not finished or not view.diagram:
            return {yours: "", theirs: ""}
        model = model_diagram(coach.engine.question_of(coach.store.get_session(view.session_id)).model_answer)
        return {yours: f"**Your diagram**\n\n```mermaid\n{view.diagram}\n```",
                theirs: f"**The model answer's diagram**\n\n{model}" if model else ""}

    def show(view: "SessionView") -> dict[Any, Any]:
        messages, stored_card = transcript_messages(view)
        new_deadline = view.ends_at if view.status == "active" else None
        out: dict[Any, Any] = {
            chat: messages, info: info_line(view), card: stored_card or CARD_PLACEHOLDER,
            download: reports.write(coach, view.session_id),
            session_box: view.session_id, message: "", session_id: view.session_id, deadline: new_deadline,
            stage_text: stage_line(view.clock), diagram: "", **side_by_side(view, bool(stored_card)),
        }
        if timer is not None:
            running = new_deadline is not None and view.status == "active"
            out[timer] = gr.Timer(active=running)
            out[timer_text] = countdown_text(new_deadline) if running else ""
        return out

    @guarded
    def on_start(topic_value: str, level_value: str, weakest_value: bool, request: gr.Request):
        view = coach.engine.start(topic=none_if_any(topic_value), level=none_if_any(level_value),
                                  weakest=bool(weakest_value), user=user_of(request))
        return show(view)

    @guarded
    def on_start_own(typed: str, request: gr.Request):
        return show(coach.engine.start(question_text=check_input(coach, typed, "question"), user=user_of(request)))

    @guarded
    def on_resume(typed: str, request: gr.Request):
        sid = check_input(coach, typed, "session id")
        owner = coach.store.get_session(sid).user
        if owner != user_of(request):
            raise toast(f"session {sid} belongs to another user")
        pending = coach.engine.unanswered(sid)  # the coach turn a crash cut off, owed before going on
        if pending is not None:
            pending.text()
        return show(coach.engine.view(sid))

    def need_session(sid: str | None) -> str:
        if not sid:
            raise gr.Error("Press Start (or resume a session) first.", print_exception=False)
        return sid

    def turn(sid: str, text: str, drawing: str | None = None) -> Iterator[dict[Any, Any]]:
        reply = coach.engine.respond(sid, text, drawing)  # errors surface before the chat changes
        messages, _ = transcript_messages(coach.engine.view(sid))
        messages.append({"role": "assistant", "content": "…"})
        out: dict[Any, Any] = {chat: messages, message: "", diagram: gr.skip() if drawing is None else ""}
        card_text = reply.critique.markdown() if reply.critique is not None else None
        if card_text is not None:
            out[card] = card_text
        yield out
        streamed = ""
        for chunk in reply.chunks:
            streamed += chunk
            shown = streamed[len(card_text):].strip() if card_text and streamed.startswith(card_text) else streamed
            shown = shown or (CRITIQUE_IN_CARD if card_text else "…")
            messages = [*messages[:-1], {"role": "assistant", "content": no_images(shown)}]
            yield {chat: messages}
        view = coach.engine.view(sid)
        final = {chat: messages, info: info_line(view), stage_text: stage_line(view.clock),
                 download: reports.write(coach, sid), **side_by_side(view, card_text is not None)}
        if card_text is not None:
            final[card] = card_text
            if timer is not None:
                final[timer] = gr.Timer(active=False)
                final[timer_text] = "Session finished."
        yield final

    @guarded
    def on_send(sid: str | None, text: str, drawing: str | None = None):
        sid = need_session(sid)
        drawing = check_input(coach, drawing, "diagram") if drawing and drawing.strip() else None
        typed = check_input(coach, text, "answer") if drawing is None or (text and text.strip()) else ""
        yield from turn(sid, typed, drawing)

    @guarded
    def on_done(sid: str | None):
        yield from turn(need_session(sid), "done")

    # One turn at a time per page: two events streaming into the same chat would interleave.
    turn_buttons = [send, done, start, resume]

    def lock():
        return [gr.Button(interactive=False)] * len(turn_buttons)

    def unlock():
        return [gr.Button(interactive=True)] * len(turn_buttons)

    def chained(trigger, fn, inputs, **kwargs) -> None:
        event = trigger(lock, None, turn_buttons, queue=False, api_visibility="private").then(
            fn, inputs, tab.outputs, **kwargs)
        event.then(unlock, None, turn_buttons, queue=False, api_visibility="private")
        event.failure(unlock, None, turn_buttons, queue=False, api_visibility="private")  # .then skips errors

    chained(start.click, on_start, [topic, level, weakest], api_name="practice_start")
    chained(start_own.click, on_start_own, [own], api_name="practice_start_own")
    chained(resume.click, on_resume, [session_box], api_name="practice_resume")
    chained(send.click, on_send, [session_id, message, diagram], api_name="practice_send")
    chained(message.submit, on_send, [session_id, message, diagram], api_visibility="undocumented")
    chained(done.click, on_done, [session_id], api_name="practice_done")
    if timer is not None:
        def on_tick(sid: str | None, current_deadline: float | None):
            # The store, not the tick's inputs, says whether the session ended: a tick fired just
            # before the critique must not put the countdown back.
            try:
                clock = coach.engine.clock(sid) if sid is not None else None
            except CoachError:
                return {timer_text: gr.skip(), stage_text: gr.skip(), timer: gr.Timer(active=False)}
            if clock is not None and clock.status != "active":
                return {timer_text: "Session finished.", stage_text: "", timer: gr.Timer(active=False)}
            text = countdown_text(current_deadline)
            if current_deadline is None or current_deadline <= time.time():
                return {timer_text: text, stage_text: stage_line(clock), timer: gr.Timer(active=False)}
            return {timer_text: text, stage_text: stage_line(clock)}

        timer.tick(on_tick, [session_id, deadline], [timer_text, stage_text, timer], show_progress="hidden",
                   concurrency_limit=None, api_visibility="undocumented")

    def start_with(question_id: str, user: str) -> dict[Any, Any]:
        return show(coach.engine.start(question_id=question_id, user=user))

    tab.start_with = start_with
    return tab
