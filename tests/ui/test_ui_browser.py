"""The web app in a real browser: Playwright drives Debian's Chromium (never `playwright install`).

The fake chat model answers "" so the coach uses its template text; one test (marked ``llm``)
runs a practice turn with the embedded SmolLM2. Screenshots of every tab go to
test-artifacts/screenshots/ and are copied to docs/screenshots/ for the README.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ui_support import PROBE_ANSWER, coach_like, running_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 60_000
SESSION_ID = re.compile(r"Session\s+([0-9a-f]{32})")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; install it with `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def coach(real_coach, tmp_path_factory):
    return coach_like(real_coach, tmp_path_factory.mktemp("ui-browser"))


@pytest.fixture(scope="module")
def url(coach):
    with running_app(coach) as address:
        yield address


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.locator("#practice-start").wait_for()
    return context, page


@pytest.fixture
def page(browser, url):
    context, page = open_page(browser, url)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    shutil.copyfile(target, DOCS_SHOTS / target.name)


def bot_messages(page, chat: str = "#practice-chat"):
    return page.locator(f'{chat} [data-testid="bot"]')


def wait_for_turn(page) -> None:
    """A turn is over when the Send button is enabled again (it is locked while the coach streams)."""
    from playwright.sync_api import expect

    expect(page.locator("#practice-send")).to_be_enabled(timeout=TIMEOUT_MS)


def start_session(page) -> str:
    from playwright.sync_api import expect

    page.locator("#practice-start").click()
    expect(bot_messages(page).first).to_contain_text("Question")
    wait_for_turn(page)
    match = SESSION_ID.search(page.locator("#practice-info").inner_text())
    assert match, page.locator("#practice-info").inner_text()
    return match.group(1)


def answer(page, text: str, timeout: int = TIMEOUT_MS) -> str:
    """Send one answer and return the coach's reply once it has finished streaming."""
    from playwright.sync_api import expect

    before = bot_messages(page).count()
    page.locator("#practice-input textarea").fill(text)
    page.locator("#practice-send").click()
    expect(bot_messages(page)).to_have_count(before + 1, timeout=timeout)
    expect(page.locator("#practice-send")).to_be_enabled(timeout=timeout)
    reply = bot_messages(page).last
    expect(reply).not_to_have_text("…", timeout=timeout)
    return reply.inner_text()


def run_practice(page, coach) -> str:
    """Start, answer once (a probe comes back), press I'm done, and wait for the critique card."""
    from playwright.sync_api import expect

    sid = start_session(page)
    probe = answer(page, PROBE_ANSWER)
    question = coach.bank.get(coach.engine.view(sid).question_id)
    authored = [p.probe for p in question.rubric] + [f for p in question.rubric for f in p.follow_ups]
    assert probe.strip().endswith(tuple(" ".join(a.split()) for a in authored)), probe
    page.locator("#practice-done").click()
    expect(page.locator("#critique-card")).to_contain_text("Critique —")
    wait_for_turn(page)
    return sid


def test_errors_show_a_short_message(page, coach):
    from playwright.sync_api import expect

    page.locator("#practice-send").click()  # no session yet
    toast = page.get_by_test_id("toast-body").filter(has_text="Press Start")
    expect(toast).to_be_visible()
    assert "Traceback" not in toast.inner_text()
    wait_for_turn(page)  # the buttons come back after an error
    start_session(page)
    limit = coach.settings.server.max_input_chars
    page.locator("#practice-input textarea").fill("x" * (limit + 1))
    page.locator("#practice-send").click()
    expect(page.get_by_test_id("toast-body").filter(has_text=f"the limit is {limit:,} characters")).to_be_visible()
    expect(bot_messages(page)).to_have_count(1)  # nothing was sent


def test_practice_session_to_critique_and_report(page, coach):
    from playwright.sync_api import expect

    sid = start_session(page)
    expect(page.locator("#practice-timer")).to_contain_text(re.compile(r"\d\d:\d\d left"))
    probe = answer(page, PROBE_ANSWER)
    assert probe and probe != "…"
    page.locator("#practice-done").click()
    card = page.locator("#critique-card")
    expect(card).to_contain_text("Critique —")
    question = coach.bank.get(coach.engine.view(sid).question_id)
    table = card.locator("table")  # scores per dimension of this question
    for dim in {p.dimension for p in question.rubric}:
        expect(table).to_contain_text(coach.bank.rubric.dimension(dim).name)
    expect(card).to_contain_text("Missed")
    expect(card.locator("a").first).to_have_attribute("href", re.compile(r"knowledge/.+\.md$"))
    expect(bot_messages(page).last).to_contain_text("Coach's summary")
    wait_for_turn(page)
    expect(page.locator("#practice-timer")).to_contain_text("Session finished")

    with page.expect_download() as download:
        page.locator("#report-download").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert report.startswith("# Practice report — ")
    assert f"`{sid}` (practice, done)" in report and PROBE_ANSWER in report and "## Critique" in report
    assert download.value.suggested_filename == f"report-{sid}.md"
    screenshot(page, "practice")


def test_ask_shows_answer_with_citations(page):
    from playwright.sync_api import expect

    page.locator("#tab-ask-button").click()
    page.locator("#ask-input textarea").fill("How do I detect concept drift when labels arrive late?")
    page.locator("#ask-send").click()
    reply = bot_messages(page, "#ask-chat").last
    expect(reply).to_contain_text("[1]")
    details = reply.locator("details")
    expect(details.locator("summary")).to_contain_text("Sources (")
    expect(details.locator("blockquote").first).to_be_hidden()  # collapsed until opened
    screenshot(page, "ask")
    details.locator("summary").click()
    expect(details).to_contain_text("knowledge/monitoring/")
    expect(details.locator("blockquote").first).to_be_visible()
    page.locator("#ask-input textarea").fill("What is PSI? ![x](http://127.0.0.1:9/pixel.png) <img src=http://127.0.0.1:9/p.png>")
    page.locator("#ask-send").click()
    expect(bot_messages(page, "#ask-chat")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(page.locator("#ask-chat img")).to_have_count(0)  # typed images are shown as text, never fetched


def test_self_assessment_shows_self_vs_coach(page, coach):
    from playwright.sync_api import expect

    page.locator("#tab-assess-button").click()
    page.locator("#assess-answer textarea").fill(
        "Covariate shift is when P(X) changes but P(Y|X) stays the same; I would compare feature "
        "distributions against the training data without labels.")
    for dim in coach.bank.rubric.dimensions:
        page.locator(f"#assess-rate-{dim.id} label").filter(has_text="staff").click()
    page.locator("#assess-grade").click()
    result = page.locator("#assess-result")
    expect(result).to_contain_text("Self vs coach")
    expect(result).to_contain_text("Mean calibration gap")
    expect(result).to_contain_text("higher than the coach")
    screenshot(page, "self-assess")


def test_progress_chart_after_a_session(page, coach):
    from playwright.sync_api import expect

    for question_id in ("lc-q01", "mon-q01"):  # two strong answers, so the lines have somewhere to go
        coach.assess(question_id, coach.bank.get(question_id).model_answer, {})
    sid = run_practice(page, coach)
    page.locator("#tab-progress-button").click()  # selecting the tab refreshes it
    image = page.locator("#progress-plot img")
    expect(image).to_be_visible()
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 400 and size[1] > 150, size
    expect(page.locator("#progress-sessions")).to_contain_text(sid)
    expect(page.locator("#progress-next")).to_contain_text("Recommended next")
    expect(page.locator("#progress-summary")).to_contain_text("Mastery")
    screenshot(page, "progress")

    recommended = re.search(r"Recommended next:\s+(\S+)", page.locator("#progress-next").inner_text()).group(1)
    page.locator("#progress-practise").click()  # starts that question on the Practice tab
    expect(page.locator("#practice-info")).to_contain_text(recommended)
    expect(page.locator("#practice-chat")).to_be_visible()


def test_guide_browses_topics_and_sections(page):
    from playwright.sync_api import expect

    page.locator("#tab-guide-button").click()
    body = page.locator("#guide-body")
    expect(body).to_contain_text("knowledge/lifecycle/")
    page.locator("#guide-topic input").click()
    page.get_by_role("option", name="monitoring", exact=True).click()
    expect(body).to_contain_text("knowledge/monitoring/")
    expect(body).to_contain_text("Sources")
    expect(body.locator("h1")).to_be_visible()
    screenshot(page, "guide")


def test_case_study_diagram_renders_as_svg(page):
    """Every case study carries a Mermaid flowchart; the Guide tab draws it offline (Gradio's bundled Mermaid)."""
    from playwright.sync_api import expect

    page.locator("#tab-guide-button").click()
    page.locator("#guide-topic input").click()
    page.get_by_role("option", name="architectures", exact=True).click()
    page.locator("#guide-section input").click()
    page.get_by_role("option", name="Case study: real-time payment fraud detection", exact=True).click()
    body = page.locator("#guide-body")
    expect(body).to_contain_text("knowledge/architectures/arch-fraud-detection.md")
    diagram = body.locator("svg").filter(has_text="Payment gateway").first
    expect(diagram).to_be_visible(timeout=30_000)
    assert "```mermaid" not in body.inner_text()
    screenshot(page, "guide-diagram")


WHITEBOARD = """flowchart LR
  A[Card authorization] -->|transaction| G[Fraud gateway]
  K[Event stream] -->|velocity counts per card and device over the last hour| F[(Online feature store)]
  G -->|card and device ids| F
  C[Chargebacks] -->|labels after a 90 day maturity window| T[Training pipeline]
"""


def test_interview_walks_the_stages_and_grades_the_whiteboard(browser, real_coach, tmp_path_factory):
    """A whole interview: the stage indicator moves through all four stages, a diagram drawn on
    the whiteboard renders as SVG (preview and critique) and earns its point in the critique."""
    from playwright.sync_api import expect

    coach = coach_like(real_coach, tmp_path_factory.mktemp("ui-stages"), session={"max_follow_ups": 3})
    sid = coach.engine.start(question_id="arch-q01").session_id  # resumed in the browser, as from Progress
    with running_app(coach) as url:
        context, page = open_page(browser, url)
        try:
            page.get_by_role("button", name=re.compile(r"^Resume a session")).click()
            page.locator("#practice-session-id textarea").fill(sid)
            page.locator("#practice-resume").click()
            stage = page.locator("#practice-stage")
            expect(stage).to_contain_text("Stage 1 of 4 · Clarify and requirements")
            expect(stage).to_contain_text(re.compile(r"\d\d:\d\d left in this stage"))
            answer(page, "What is the peak number of transactions per second?")
            expect(stage).to_contain_text("Stage 1 of 4")  # a clarifying question does not move the interview on

            page.get_by_role("button", name=re.compile(r"^Whiteboard")).click()
            page.locator("#practice-diagram textarea").fill(WHITEBOARD)
            preview = page.locator("#practice-diagram-preview svg").filter(has_text="Fraud gateway").first
            expect(preview).to_be_visible(timeout=30_000)
            first = answer(page, "Here is the data flow I have in mind for scoring each authorization.")
            assert "Let's move on to the high-level design." in first
            expect(stage).to_contain_text("Stage 2 of 4 · High-level design")
            seen = {"High-level design"}
            for _ in range(6):
                reply = answer(page, "I would keep it simple and revisit this later if there is time.")
                text = stage.inner_text()
                seen |= {t for t in ("Deep dives", "Wrap-up") if t in text}
                if "Critique" in page.locator("#critique-card").inner_text():
                    break
                assert reply.strip()
            assert seen == {"High-level design", "Deep dives", "Wrap-up"}, seen
            card = page.locator("#critique-card")
            expect(card).to_contain_text("Critique —")
            expect(card).to_contain_text("The twist")
            mine = page.locator("#critique-your-diagram svg").filter(has_text="Fraud gateway").first
            expect(mine).to_be_visible(timeout=30_000)
            expect(page.locator("#critique-model-diagram svg").first).to_be_visible(timeout=30_000)
            grade = coach.store.latest_grade(sid)
            credited = [p for p in grade["points"] if p["covered"] and "In my design" in (p["evidence"] or "")]
            assert credited, "the diagram earned no point"
            expect(card).to_contain_text(" ".join(credited[0]["evidence"].split())[:60])
            screenshot(page, "practice-stages-whiteboard")
        finally:
            context.close()


def test_two_browsers_do_not_see_each_others_chat(browser, url, coach):
    ctx_a, page_a = open_page(browser, url)
    ctx_b, page_b = open_page(browser, url)
    try:
        sid_a, sid_b = start_session(page_a), start_session(page_b)
        assert sid_a != sid_b
        mine = "Alice's answer: I would log the served features and compare them with the batch pipeline values."
        answer(page_a, mine)
        theirs = "Bob's answer: a two-tower retrieval model followed by a ranker trained on impressions."
        answer(page_b, theirs)
        chat_a = page_a.locator("#practice-chat").inner_text()
        chat_b = page_b.locator("#practice-chat").inner_text()
        assert mine in chat_a and theirs not in chat_a
        assert theirs in chat_b and mine not in chat_b
        assert sid_a in page_a.locator("#practice-info").inner_text()
        assert sid_b in page_b.locator("#practice-info").inner_text()
        assert [t for _, _, t in coach.engine.view(sid_a).transcript if t == theirs] == []
    finally:
        ctx_a.close()
        ctx_b.close()


@pytest.mark.llm
def test_real_model_practice_turn(browser, real_coach, tmp_path_factory):
    """One turn with the embedded SmolLM2 (asked to phrase, though authored text is its default):
    the follow-up is phrased (or safely replaced) and shown."""
    coach = coach_like(real_coach, tmp_path_factory.mktemp("ui-llm"),
                       llm={"mode": "smollm2", "max_tokens": 60, "phrasing": "always"}, session={"max_follow_ups": 1})
    with running_app(coach) as address:
        context, page = open_page(browser, address)
        try:
            sid = start_session(page)
            probe = answer(page, PROBE_ANSWER, timeout=240_000)
            assert len(probe.split()) >= 3
            turns = coach.engine.view(sid).transcript
            assert turns[-1][0] == "coach" and turns[-1][1] in {"gap", "depth", "challenge"}
            assert turns[-1][2].strip() == probe.strip()
        finally:
            context.close()


def test_practice_a_question_the_candidate_typed(page, coach):
    from playwright.sync_api import expect

    own = "a row on the phone's home screen that guesses which app the user opens next; how do you set this up?"
    page.locator("#practice-own").locator("button, summary").first.click()
    page.locator("#practice-own-question textarea, #practice-own-question input").first.fill(own)
    page.locator("#practice-start-own").click()
    expect(page.locator("#practice-info")).to_contain_text("Graded against the bank question lc-q01",
                                                           timeout=TIMEOUT_MS)
    expect(bot_messages(page, "#practice-chat").first).to_contain_text("guesses which app the user opens next")
