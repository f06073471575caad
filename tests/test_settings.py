import pytest

from coach.errors import SettingsError
from coach.settings import load_settings


def test_defaults_without_file(tmp_path):
    s = load_settings(env={})
    assert s.llm.mode == "smollm2"
    assert s.retrieval.k == 5
    assert s.chroma_path == (tmp_path / ".coach" / "chroma").resolve()
    assert s.server.port == 7860


def test_repo_settings_file_is_valid():
    from tests.conftest import ROOT

    s = load_settings(ROOT / "coach.yaml", env={})
    assert s.knowledge_dir == ROOT / "knowledge"


def test_yaml_values_and_relative_paths(tmp_path):
    cfg = tmp_path / "conf" / "c.yaml"
    cfg.parent.mkdir()
    cfg.write_text("paths:\n  data_dir: state\nretrieval:\n  k: 7\n")
    s = load_settings(cfg, env={})
    assert s.retrieval.k == 7
    assert s.data_dir == (tmp_path / "conf" / "state").resolve()


def test_env_overrides_win_over_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("llm:\n  mode: ollama\n")
    s = load_settings(cfg, env={"COACH_LLM__MODE": "fake", "COACH_PORT": "9000", "COACH_RETRIEVAL__K": "3"})
    assert s.llm.mode == "fake"
    assert s.server.port == 9000
    assert s.retrieval.k == 3


def test_unknown_key_in_file_is_named(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("retrieval:\n  kk: 3\n")
    with pytest.raises(SettingsError, match=r"retrieval\.kk.*unknown key"):
        load_settings(cfg, env={})


def test_unknown_section_is_named(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("retreival:\n  k: 3\n")
    with pytest.raises(SettingsError, match="retreival"):
        load_settings(cfg, env={})


def test_bad_value_names_key_and_variable():
    with pytest.raises(SettingsError, match=r"COACH_RETRIEVAL__K.*retrieval\.k"):
        load_settings(env={"COACH_RETRIEVAL__K": "many"})
    with pytest.raises(SettingsError, match="llm.mode"):
        load_settings(env={"COACH_LLM__MODE": "gpt9"})


def test_unknown_env_variable_is_an_error():
    with pytest.raises(SettingsError, match="COACH_LLMMODE"):
        load_settings(env={"COACH_LLMMODE": "fake"})


def test_broken_yaml_names_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("llm:\n  mode: fake\n  model: [unclosed\n")
    with pytest.raises(SettingsError, match=r"c\.yaml:\d+: broken YAML"):
        load_settings(cfg, env={})


def test_host_and_port_go_together():
    with pytest.raises(SettingsError, match="host and vector_store.port"):
        load_settings(env={"COACH_VECTOR_STORE__HOST": "127.0.0.1"})


def test_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_interview_plan_and_phrasing_settings(tmp_path):
    cfg = tmp_path / "plan.yaml"
    cfg.write_text("session:\n  max_probes: 5\n  stage_minutes: {design: 10}\nserver:\n  timer_minutes: 0\n")
    s = load_settings(cfg, env={})
    assert s.session.max_follow_ups == 5, "the old name still reads"
    assert s.session.stage_minutes == {"clarify": 8, "design": 10, "deep-dive": 24, "wrap-up": 5}
    assert s.session.total_minutes == 47 and s.server.show_timer is False
    cfg.write_text("session:\n  stage_minutes: {coding: 10}\n")
    with pytest.raises(SettingsError, match="unknown stage.*coding"):
        load_settings(cfg, env={})
    cfg.write_text("server:\n  timer_minutes: 30\n")
    with pytest.raises(SettingsError, match="timer_minutes has moved"):
        load_settings(cfg, env={})
    llm = load_settings(None, env={}).llm
    assert llm.phrasing == "auto" and not llm.phrases(embedded_model=False) and llm.phrases(embedded_model=True)
    llm.mode = "ollama"
    assert llm.phrases(embedded_model=False)
    llm.phrasing = "never"
    assert not llm.phrases(embedded_model=True)


def test_store_url_defaults_to_sqlite_and_takes_a_postgresql_url_from_the_environment(tmp_path):
    s = load_settings(env={})
    assert s.store.url is None and s.store_path == (tmp_path / ".coach" / "coach.sqlite3").resolve()
    url = "postgresql://coach:pw@db.internal:5433/coach"
    assert load_settings(env={"COACH_STORE__URL": url}).store.url == url
    assert load_settings(env={"COACH_STORE__URL": "postgres://coach@db/coach?sslmode=require"}).store.url


@pytest.mark.parametrize("url, why", [
    ("mysql://coach:pw@db/coach", "must start with postgresql://"),
    ("db.internal:5432/coach", "must start with postgresql://"),
    ("postgresql:///coach", "names no host"),
    ("postgresql://coach:pw@db.internal:5432", "must name one database"),
    ("postgresql://coach:pw@db.internal:5432/", "must name one database"),
    ("postgresql://coach:pw@db.internal:5432/a/b", "must name one database"),
    ("postgresql://coach:pw@db.internal:port/coach", "is not a valid URL"),
    ("postgresql://coach:pw@db.internal:70000/coach", "is not a valid URL"),
])
def test_bad_store_url_is_named_without_its_password(url, why):
    with pytest.raises(SettingsError) as err:
        load_settings(env={"COACH_STORE__URL": url})
    message = str(err.value)
    assert "environment variable COACH_STORE__URL: setting 'store.url'" in message and why in message
    assert ":pw@" not in message


def test_store_path_and_url_together_are_refused(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("store:\n  path: x.sqlite3\n  url: postgresql://coach@db/coach\n")
    with pytest.raises(SettingsError, match="store.path .SQLite. or store.url .PostgreSQL., not both"):
        load_settings(cfg, env={})
