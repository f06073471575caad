"""What the web app renders from user text: as text, never as Markdown images or raw HTML."""

from __future__ import annotations

from markdown_it import MarkdownIt

from coach.errors import SessionError
from coach.practice.engine import SessionView
from coach.ui.ask_tab import exchange
from coach.ui.common import _as_gr_error
from coach.ui.practice_tab import transcript_messages

HOSTILE = ("See ![x](http://host/pixel.png) and <img src=http://host/p.png> "
           "<script>alert(1)</script> [link](http://host/) 0.1% of *payments*")


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def _shown_as_text(content: str) -> None:
    html = _html(content)
    assert "<img" not in html and "<script" not in html, html
    assert "pixel.png" in html and "&lt;img" in html  # the user still sees what they typed


def test_candidate_turns_are_shown_as_text():
    view = SessionView("s1", "q1", "monitoring", "mid", "Q?", "active", 3,
                       [("coach", "question", "Design it."), ("candidate", "answer", HOSTILE),
                        ("coach", "probe", "What about ![y](http://host/coach.png)?")])
    messages, _ = transcript_messages(view)
    _shown_as_text(messages[1]["content"])
    assert "<img" not in _html(messages[2]["content"]), "no image is fetched from any chat message"


def test_ask_question_is_shown_as_text():
    class Result:  # the parts of AskResult answer_markdown reads
        covered, nearest, answer, citations = False, [], "", []

    user, _ = exchange(HOSTILE, Result())
    assert user["role"] == "user"
    _shown_as_text(user["content"])


def test_error_toast_shows_a_typed_session_id_as_text():
    err = _as_gr_error(SessionError("no session <img src=http://host/p.png>: see `coach progress` for ids"))
    assert "<img" not in err.message and "&lt;img" in err.message


def test_the_coach_own_markup_survives():
    from coach.ui.common import no_images

    shown = no_images("**Answer** [1]\n\n<details><summary>Sources (1)</summary>\n\n> text\n</details> <IMG src=x>")
    assert "<details><summary>Sources (1)</summary>" in shown and "<IMG" not in shown
