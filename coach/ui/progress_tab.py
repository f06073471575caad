"""The "Progress" tab: mastery plot per topic and dimension, session history with reports, the next question."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from coach.practice.progress import mastery_over_time
from coach.ui.common import ReportFiles, check_input, guarded, toast, user_of

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach
    from coach.store.sessions import Mastery
    from matplotlib.figure import Figure

    from coach.ui.practice_tab import PracticeTab

SESSION_COLUMNS = ["id", "when", "kind", "question", "status", "score"]


def progress_figure(mastery: "Mastery", dimension_name) -> "Figure":
    """Two panels: running mastery per topic and per dimension after each finished session."""
    # matplotlib costs ~0.3 s to import: paid when the Progress tab is opened, not at start-up.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = mastery_over_time(mastery.history)
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    if not rows:
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "No finished sessions yet: finish a practice session or a self-assessment.",
                ha="center", va="center", fontsize=12)
        return fig
    frame = pd.DataFrame(rows)
    for i, (group, title) in enumerate((("topic", "Mastery by topic"), ("dimension", "Mastery by dimension"))):
        ax = fig.add_subplot(1, 2, i + 1)
        part = frame[frame["group"] == group]
        for name, series in part.groupby("name", sort=True):
            label = dimension_name(name) if group == "dimension" else name
            ax.plot(series["session"], series["mastery"], marker="o", label=label)
        ax.set_title(title)
        ax.set_xlabel("finished session #")
        ax.set_ylabel("mastery (0-100)")
        ax.set_ylim(0, 100)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if not part.empty:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def sessions_frame(coach: "Coach", user: str) -> pd.DataFrame:
    data = []
    for s in coach.store.list_sessions(limit=100, user=user):
        when = dt.datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M")
        data.append([s.id, when, s.kind, s.question_id, s.status, "" if s.score is None else str(s.score)])
    return pd.DataFrame(data, columns=SESSION_COLUMNS)


def summary_markdown(coach: "Coach", mastery: "Mastery") -> str:
    out = []
    if mastery.by_topic:
        out += ["| Topic | Mastery | Sessions |", "|---|---:|---:|"]
        out += [f"| {t} | {v:.0f} | {mastery.topic_counts.get(t, 0)} |" for t, v in sorted(mastery.by_topic.items())]
    if mastery.by_dimension:
        out += ["", "| Dimension | Mastery |", "|---|---:|"]
        out += [f"| {coach.bank.rubric.dimension(d).name} | {v:.0f} |"
                for d, v in sorted(mastery.by_dimension.items(), key=lambda kv: kv[1])]
    if mastery.unpracticed_topics:
        out += ["", f"Not practised yet: {', '.join(mastery.unpracticed_topics)}."]
    return "\n".join(out)


def build_progress_tab(coach: "Coach", reports: ReportFiles, practice: "PracticeTab", tabs: gr.Tabs) -> Any:
    """Builds the tab's body; returns the refresh event (fn, inputs, outputs) for the tab's select."""
    refresh = gr.Button("Refresh", elem_id="progress-refresh")
    plot = gr.Plot(label="Mastery over time", show_label=False, elem_id="progress-plot", format="png")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            summary = gr.Markdown("", elem_id="progress-summary")
        with gr.Column(scale=1):
            next_md = gr.Markdown("", elem_id="progress-next", container=True)
            practise = gr.Button("Practise this", elem_id="progress-practise")
    sessions = gr.Dataframe(headers=SESSION_COLUMNS, label="Sessions (newest first; click a row to pick it)",
                            interactive=False, elem_id="progress-sessions", wrap=True)
    with gr.Row():
        report_id = gr.Textbox(label="Session id", elem_id="progress-report-id", scale=3)
        get_report = gr.Button("Get report", elem_id="progress-report-get", scale=1)
        report_file = gr.DownloadButton("Download report", elem_id="progress-report-download", scale=1)
    recommended = gr.State(None)

    @guarded
    def on_refresh(request: gr.Request):
        user = user_of(request)
        mastery = coach.progress(user=user)
        fig = progress_figure(mastery, lambda d: coach.bank.rubric.dimension(d).name)
        rec = coach.recommend_next(user=user)
        rec_md = ("**Recommended next:** "
                  f"{rec['question_id']} ({rec['topic']}, {rec['level']}), because {rec['reason']}.\n\n"
                  f"> {rec['prompt']}") if rec else "_No recommendation yet._"
        return fig, summary_markdown(coach, mastery), rec_md, sessions_frame(coach, user), rec and rec["question_id"]

    @guarded
    def on_report(typed: str, request: gr.Request):
        sid = check_input(coach, typed, "session id")
        if coach.store.get_session(sid).user != user_of(request):
            raise toast(f"session {sid} belongs to another user")
        return reports.write(coach, sid)

    def on_select(table: pd.DataFrame, evt: gr.SelectData) -> str:
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            return str(table.iloc[row]["id"])
        except (IndexError, KeyError, TypeError):
            return ""

    @guarded
    def on_practise(question_id: str | None, request: gr.Request):
        if not question_id:
            raise gr.Error("Press Refresh to get a recommendation first.", print_exception=False)
        out = practice.start_with(question_id, user_of(request))
        out[tabs] = gr.Tabs(selected="practice")
        return out

    refresh_outputs = [plot, summary, next_md, sessions, recommended]
    refresh.click(on_refresh, None, refresh_outputs, api_name="progress")
    get_report.click(on_report, [report_id], [report_file], api_name="report")
    sessions.select(on_select, [sessions], [report_id], api_visibility="undocumented", concurrency_limit=None)
    practise.click(on_practise, [recommended], [*practice.outputs, tabs], api_visibility="undocumented")
    return on_refresh, refresh_outputs
