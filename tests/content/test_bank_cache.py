"""The start-up cache of the bank: a copy that is never stale, never trusted when unreadable."""

import pickle

import pytest

from coach.content.cache import load_bank_cached
from coach.content.guide import load_guide
from coach.content.questions import load_question_bank
from coach.errors import KnowledgeError


def _ids(knowledge):
    return set(load_guide(knowledge).sections)


def test_second_load_comes_from_the_cache_and_equals_a_fresh_parse(knowledge, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_bank_cached(knowledge, _ids(knowledge), cache)
    assert (cache / "bank.pickle").is_file()

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again although nothing changed")

    monkeypatch.setattr("coach.content.questions.load_question_bank", no_parse)
    second = load_bank_cached(knowledge, _ids(knowledge), cache)
    assert second.questions == first.questions == load_question_bank(knowledge, _ids(knowledge)).questions
    assert second.origin == first.origin


def test_an_edited_question_file_is_parsed_again(knowledge, tmp_path):
    cache = tmp_path / "cache"
    before = load_bank_cached(knowledge, _ids(knowledge), cache)
    path = sorted((knowledge / "questions").glob("*.yaml"))[0]
    qid = next(iter(before.questions))
    text = path.read_text(encoding="utf-8")
    old = before.get(qid).prompt
    assert old in text
    path.write_text(text.replace(old, old + " Edited.", 1), encoding="utf-8")
    after = load_bank_cached(knowledge, _ids(knowledge), cache)
    assert after.get(qid).prompt.endswith("Edited.")


def test_a_different_guide_is_checked_again(knowledge, tmp_path):
    cache = tmp_path / "cache"
    ids = _ids(knowledge)
    load_bank_cached(knowledge, ids, cache)
    linked = {s for q in load_question_bank(knowledge, ids) for p in q.rubric for s in p.sections}
    with pytest.raises(KnowledgeError, match="does not exist in the guide"):
        load_bank_cached(knowledge, ids - {sorted(linked)[0]}, cache)


def test_an_unreadable_cache_is_rebuilt(knowledge, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bank.pickle").write_bytes(b"not a pickle")
    bank = load_bank_cached(knowledge, _ids(knowledge), cache)
    assert len(bank) > 0
    key, stored = pickle.loads((cache / "bank.pickle").read_bytes())
    assert stored.questions == bank.questions


def test_a_broken_bank_raises_and_is_not_cached(knowledge, tmp_path):
    cache = tmp_path / "cache"
    path = sorted((knowledge / "questions").glob("*.yaml"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=path.name):
        load_bank_cached(knowledge, _ids(knowledge), cache)
    assert not (cache / "bank.pickle").exists()
