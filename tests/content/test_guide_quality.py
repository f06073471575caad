"""The real guide: size, required parts, coverage of the syllabus, and findability."""

import re

import pytest
import yaml

from coach.content.guide import load_guide
from coach.settings import TOPICS
from tests.conftest import ROOT

KNOWLEDGE = ROOT / "knowledge"
SYLLABUS = ROOT.parent / "shared" / "syllabus.md"
CASE_HEADINGS = [
    "Requirements and scale", "Metrics", "Data and labels", "Features", "Model", "Serving and latency budget",
    "Monitoring and feedback loops", "Rollout", "Failure modes and trade-offs", "What interviewers probe",
    "Common mistakes", "Related sections",
]
EXPECTED_SUBTOPICS = {f"1.{i}" for i in range(1, 10)} | {f"{t}.{i}" for t in range(2, 6) for i in range(1, 9)}

GUIDE = load_guide(KNOWLEDGE)
SECTIONS = [s for s in GUIDE.sections.values() if s.meta.kind == "section"]


def _teaching_words(section) -> int:
    """Words of the section's teaching text: its quick answers restate it and are checked apart
    (tests/content/test_quick_answers.py)."""
    return len(section.teaching_body.split())


def _h2(section):
    return re.findall(r"^## (.+?)\s*$", section.body, flags=re.M)


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_has_eight_sections_and_an_overview(topic):
    kinds = [s.meta.kind for s in GUIDE.by_topic(topic)]
    assert kinds.count("section") >= 8, f"{topic} has {kinds.count('section')} sections"
    assert kinds.count("overview") == 1


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_section_size_and_required_parts(section):
    assert 500 <= _teaching_words(section) <= 1200, f"{section.source}: {_teaching_words(section)} words"
    headings = _h2(section)
    assert "What interviewers probe" in headings, section.source
    assert "Common mistakes" in headings, section.source
    has_table = re.search(r"^\|.*\|\s*$\n^\|[\s:|-]+\|\s*$", section.body, flags=re.M)
    assert has_table or "Worked example" in headings, f"{section.source}: needs a trade-off table or worked example"
    assert re.search(r"\d", section.body), f"{section.source}: no numbers at all"
    assert section.meta.sources and all(s.strip() for s in section.meta.sources)


def test_overviews_size():
    for s in GUIDE.sections.values():
        if s.meta.kind == "overview":
            assert 200 <= _teaching_words(s) <= 1200, s.source


@pytest.mark.parametrize("case", [s for s in SECTIONS if s.topic == "architectures" and s.id != "arch-cross-cutting"],
                         ids=lambda s: s.id)
def test_case_studies_follow_the_template(case):
    headings = _h2(case)
    positions = [headings.index(h) for h in CASE_HEADINGS if h in headings]
    missing = [h for h in CASE_HEADINGS if h not in headings]
    assert not missing, f"{case.source} lacks {missing}"
    assert positions == sorted(positions), f"{case.source}: template headings out of order"
    related = case.body.split("## Related sections", 1)[1]
    linked = set(re.findall(r"`([a-z0-9-]+)`", related))
    other_topics = {GUIDE.get(i).topic for i in linked if GUIDE.get(i)}
    assert other_topics >= {"lifecycle", "infrastructure", "design-patterns", "monitoring"}, case.source
    assert all(GUIDE.get(i) for i in linked), f"{case.source}: unknown ids {[i for i in linked if not GUIDE.get(i)]}"


def test_at_least_seven_case_studies():
    ids = {s.id for s in SECTIONS if s.topic == "architectures"}
    for case in ["fraud-detection", "recommendation", "search-ranking", "ads-ctr", "feed-ranking", "rag-assistant",
                 "content-moderation"]:
        assert f"arch-{case}" in ids


def test_coverage_maps_every_subtopic_and_dimension():
    coverage = yaml.safe_load((KNOWLEDGE / "coverage.yaml").read_text())
    subtopics = coverage["subtopics"]
    assert set(subtopics) >= EXPECTED_SUBTOPICS, sorted(EXPECTED_SUBTOPICS - set(subtopics))
    for key, entry in subtopics.items():
        assert entry["sections"], f"subtopic {key} maps to nothing"
        for sid in entry["sections"]:
            assert GUIDE.get(sid), f"subtopic {key} maps to missing section {sid}"
    rubric = yaml.safe_load((KNOWLEDGE / "rubric.yaml").read_text())
    for dim in rubric["dimensions"]:
        ids = coverage["dimensions"].get(dim["id"])
        assert ids and all(GUIDE.get(i) for i in ids), f"dimension {dim['id']}"


@pytest.mark.skipif(not SYLLABUS.exists(), reason="shared/syllabus.md is not beside the repository")
def test_coverage_matches_the_syllabus_headings():
    headings = set(re.findall(r"^### (\d\.\d) ", SYLLABUS.read_text(), flags=re.M))
    coverage = yaml.safe_load((KNOWLEDGE / "coverage.yaml").read_text())
    assert headings <= set(coverage["subtopics"]), sorted(headings - set(coverage["subtopics"]))


def test_sentences_are_not_copied_from_the_syllabus():
    """Facts carry over, sentences do not: no run of 12 words from the syllabus appears in the guide."""
    if not SYLLABUS.exists():
        pytest.skip("shared/syllabus.md is not beside the repository")
    def runs(text, n=12):
        toks = re.findall(r"[a-z0-9]+", text.lower())
        return {" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)}
    syllabus = runs(SYLLABUS.read_text())
    copied = {s.source: sorted(runs(s.body) & syllabus)[:2] for s in GUIDE.sections.values()}
    copied = {k: v for k, v in copied.items() if v}
    assert not copied, copied


@pytest.mark.parametrize("section", list(GUIDE.sections.values()), ids=lambda s: s.id)
def test_summary_query_finds_section_in_top5(real_coach, section):
    hits = real_coach.retrieve(section.meta.summary, k=20)
    seen = []
    for h in hits:
        if h.section_id not in seen:
            seen.append(h.section_id)
    assert section.id in seen[:5], f"{section.id} not in {seen[:5]}"


def test_readme_guide_table_is_current():
    from coach.content.guide_table import BEGIN, END, guide_table

    readme = (ROOT / "README.md").read_text()
    current = readme[readme.index(BEGIN): readme.index(END) + len(END)]
    assert current == guide_table(GUIDE), "run `coach guide --update-readme README.md`"


def test_no_word_is_broken_across_lines_at_a_hyphen():
    """A line that ends in "reference-vs-" joins the next as "reference-vs- reference" (Markdown and
    YAML both fold a line break into a space), which Ask quotes and the grader embeds."""
    broken = []
    for path in sorted([*KNOWLEDGE.rglob("*.md"), *KNOWLEDGE.rglob("*.yaml"), *(ROOT / "evals" / "data").glob("*.yaml")]):
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, (line, following) in enumerate(zip(lines, lines[1:]), start=1):
            if re.search(r"[A-Za-z0-9]-$", line) and re.match(r"\s*[A-Za-z0-9]", following):
                broken.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[-40:]}")
    assert not broken, "words broken across lines:\n" + "\n".join(broken)
