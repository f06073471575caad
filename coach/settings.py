"""Settings: one YAML file plus ``COACH_*`` environment overrides, validated by pydantic.

Nothing is read at import time: callers build a ``Settings`` with :func:`load_settings` and pass
it in explicitly, so tests can point every path at a temporary folder.

Environment overrides use ``COACH_<SECTION>__<FIELD>`` (double underscore), for example
``COACH_LLM__MODE=fake`` or ``COACH_VECTOR_STORE__PORT=8000``. A few short aliases exist for the
values people change most (see ``ENV_ALIASES``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coach.errors import SettingsError

TOPICS: tuple[str, ...] = ("lifecycle", "infrastructure", "design-patterns", "monitoring", "architectures")
LEVELS: tuple[str, ...] = ("junior", "mid", "senior", "staff")
DEFAULT_FILE_NAME = "coach.yaml"
ENV_PREFIX = "COACH_"
ENV_ALIASES: dict[str, str] = {
    "COACH_LLM_MODE": "llm.mode",
    "COACH_HOST": "server.host",
    "COACH_PORT": "server.port",
    "COACH_USERNAME": "server.username",
    "COACH_PASSWORD": "server.password",
    "COACH_DATA_DIR": "paths.data_dir",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathSettings(_Section):
    knowledge_dir: Path = Field(Path("knowledge"), description="Guide sections and question bank.")
    prompts_dir: Path = Field(Path("prompts"), description="Prompt templates (YAML).")
    data_dir: Path = Field(Path(".coach"), description="Index, database and reports live here.")


class VectorStoreSettings(_Section):
    path: Path | None = Field(None, description="Chroma folder; default <data_dir>/chroma.")
    collection: str = Field("guide", min_length=3, max_length=63, description="Chroma collection name.")
    host: str | None = Field(None, description="Chroma server host; with port, use the server instead of a folder.")
    port: int | None = Field(None, ge=1, le=65535, description="Chroma server port.")
    timeout_s: float = Field(5.0, gt=0, description="Seconds to wait for the Chroma server.")

    @model_validator(mode="after")
    def _host_and_port_together(self) -> "VectorStoreSettings":
        if (self.host is None) != (self.port is None):
            raise ValueError("vector_store.host and vector_store.port must be set together")
        return self

    @property
    def is_server(self) -> bool:
        return self.host is not None


class EmbeddingSettings(_Section):
    model_path: Path | None = Field(
        None, description="Sentence-transformers folder; default: the packaged all-MiniLM-L6-v2."
    )
    backend: Literal["onnx", "torch"] = Field(
        "onnx", description="onnx: onnxruntime, no torch on the query path; torch: sentence-transformers."
    )
    onnx_dir: Path | None = Field(None, description="Where the ONNX export is cached; default <data_dir>/models.")
    threads: int | None = Field(None, ge=1, le=256, description="onnxruntime threads; null = all cores.")
    device: str = Field("cpu", description="Torch device for embeddings (backend torch).")
    batch_size: int = Field(32, ge=1, le=1024)


class ChunkingSettings(_Section):
    chunk_size: int = Field(1000, ge=200, le=8000, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(150, ge=0, le=2000, description="Characters shared by neighbouring chunks.")

    @model_validator(mode="after")
    def _overlap_smaller(self) -> "ChunkingSettings":
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunking.chunk_overlap must be smaller than chunking.chunk_size")
        return self


class RetrievalSettings(_Section):
    k: int = Field(5, ge=1, le=50, description="Hits returned by default.")
    candidates: int = Field(30, ge=5, le=500, description="Hits taken from each of dense and BM25 before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    max_query_chars: int = Field(10_000, ge=100)
    min_dense_similarity: float = Field(
        0.34, ge=-1, le=1, description="At or above this cosine similarity a question counts as covered by the guide."
    )
    lexical_floor: float = Field(
        0.20, ge=-1, le=1, description="Between this similarity and the one above, the question's terms decide."
    )
    min_term_coverage: float = Field(
        0.60, ge=0, le=1, description="Share of the question's IDF weight one passage must contain in that band."
    )


class LLMSettings(_Section):
    mode: Literal["smollm2", "ollama", "openai", "fake"] = Field("smollm2", description="Chat backend.")
    model: str | None = Field(None, description="Model name (ollama/openai) or GGUF path (smollm2).")
    base_url: str | None = Field(None, description="Server URL for ollama / OpenAI-compatible backends.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key.")
    timeout_s: float = Field(60.0, gt=0, description="Seconds before a call falls back to template text.")
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int = Field(160, ge=8, le=4096)
    n_ctx: int = Field(2048, ge=256)
    n_threads: int | None = Field(None, ge=1, description="llama.cpp threads; default: all cores.")
    fake_replies: list[str] = Field(default_factory=list, description="Scripted replies for mode=fake.")
    ask_prose: Literal["auto", "always", "never"] = Field(
        "auto", description="Let the chat model write Ask answers: auto = capable backends only (not smollm2)."
    )

    phrasing: Literal["auto", "always", "never"] = Field(
        "auto", description="Let the chat model rephrase interview turns (checked): auto = capable backends, and "
                            "the embedded model only for templates marked embedded_model: true."
    )

    def phrases(self, embedded_model: bool) -> bool:
        """Whether a template is model-phrased; ``embedded_model`` is the template's own flag."""
        if self.phrasing != "auto":
            return self.phrasing == "always"
        return self.mode != "smollm2" or embedded_model

    @property
    def writes_ask_prose(self) -> bool:
        """The embedded 135M model invents Ask sentences too often; capable backends (and fake) may write."""
        return self.ask_prose == "always" or (self.ask_prose == "auto" and self.mode != "smollm2")


STAGES: tuple[str, ...] = ("clarify", "design", "deep-dive", "wrap-up")
# Exponent teaches six steps of about 8 minutes over 45; ours fold its three middle steps into the deep dive.
DEFAULT_STAGE_MINUTES: dict[str, int] = {"clarify": 8, "design": 8, "deep-dive": 24, "wrap-up": 5}


class SessionSettings(_Section):
    max_follow_ups: int = Field(
        8, ge=0, le=20, validation_alias=AliasChoices("max_follow_ups", "max_probes"),
        description="Follow-ups (gap, depth, challenge, twist) before the wrap-up and the critique.",
    )
    stage_minutes: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_STAGE_MINUTES),
        description="Time plan: minutes for clarify, design, deep-dive and wrap-up (the countdown is their sum).",
    )
    recent_window: int = Field(5, ge=0, description="Questions not repeated within this many sessions.")
    max_answer_chars: int = Field(12_000, ge=100)

    @field_validator("stage_minutes")
    @classmethod
    def _plan(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; the stages are {', '.join(STAGES)}")
        plan = {stage: value.get(stage, DEFAULT_STAGE_MINUTES[stage]) for stage in STAGES}
        if any(not isinstance(m, int) or m < 0 for m in plan.values()) or sum(plan.values()) <= 0:
            raise ValueError("stage minutes must be whole numbers >= 0 with a positive total")
        return plan

    @property
    def total_minutes(self) -> int:
        return sum(self.stage_minutes.values())


POSTGRES_SCHEMES: tuple[str, ...] = ("postgresql", "postgres")


def redact_url(url: str) -> str:
    """``url`` without its password, for messages and logs: ``postgresql://coach@db:5432/coach``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


class StoreSettings(_Section):
    path: Path | None = Field(None, description="SQLite file; default <data_dir>/coach.sqlite3.")
    url: str | None = Field(
        None, description="postgresql://user:password@host:port/database: use PostgreSQL instead of the SQLite file."
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as exc:  # a port that is not a number, a broken IPv6 host
            raise ValueError(f"store.url {redact_url_safe(value)!r} is not a valid URL ({exc})") from None
        shown = redact_url_safe(value)
        if parts.scheme not in POSTGRES_SCHEMES:
            raise ValueError(f"store.url {shown!r} must start with postgresql:// "
                             "(leave store.url unset to use the SQLite file at store.path)")
        if not parts.hostname:
            raise ValueError(f"store.url {shown!r} names no host; use postgresql://user:password@host:5432/database")
        if not parts.path.strip("/") or "/" in parts.path.strip("/"):
            raise ValueError(f"store.url {shown!r} must name one database after the host, e.g. .../coach")
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"store.url {shown!r}: port {port} is not from 1 to 65535")
        return value

    @model_validator(mode="after")
    def _path_or_url(self) -> "StoreSettings":
        if self.path is not None and self.url is not None:
            raise ValueError("set store.path (SQLite) or store.url (PostgreSQL), not both")
        return self


def redact_url_safe(url: str) -> str:
    """:func:`redact_url` for a URL that may not parse: then only what precedes the host is kept."""
    try:
        return redact_url(url)
    except ValueError:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://...@{rest.rsplit('@', 1)[-1]}" if "@" in rest else url


class ServerSettings(_Section):
    host: str = Field("127.0.0.1")
    port: int = Field(7860, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    concurrency_limit: int = Field(
        1, ge=1, description="Model calls running at once across users; a call beyond it gets the template text."
    )
    handler_concurrency: int = Field(
        16, ge=1, le=256, description="Web requests handled at once (grading, cards, templates; model calls "
                                      "are capped separately by concurrency_limit)."
    )
    max_input_chars: int = Field(8_000, ge=100)
    show_timer: bool = Field(True, description="Show the practice countdown and the stage clock.")

    @model_validator(mode="before")
    @classmethod
    def _moved_timer(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timer_minutes" in data:
            data = dict(data)
            minutes = data.pop("timer_minutes")
            if minutes not in (0, "0", None):
                raise ValueError("timer_minutes has moved: the countdown is the sum of session.stage_minutes; "
                                 "use server.show_timer: false to hide it")
            data.setdefault("show_timer", minutes is None)
        return data

    @model_validator(mode="after")
    def _auth_pair(self) -> "ServerSettings":
        if (self.username is None) != (self.password is None):
            raise ValueError("server.username and server.password must be set together")
        return self


class Settings(_Section):
    """Everything configurable, with the folder relative paths are resolved against."""

    paths: PathSettings = Field(default_factory=PathSettings)
    vector_store: VectorStoreSettings = Field(default_factory=VectorStoreSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True, description="Relative paths start here.")

    @field_validator("base_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    def resolve(self, path: Path) -> Path:
        """Absolute form of a configured path (relative ones start at ``base_dir``)."""
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def knowledge_dir(self) -> Path:
        return self.resolve(self.paths.knowledge_dir)

    @property
    def prompts_dir(self) -> Path:
        return self.resolve(self.paths.prompts_dir)

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.paths.data_dir)

    @property
    def chroma_path(self) -> Path:
        return self.resolve(self.vector_store.path) if self.vector_store.path else self.data_dir / "chroma"

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path) if self.store.path else self.data_dir / "coach.sqlite3"


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SettingsError(f"{origin}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def _env_overrides(env: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(dotted key, raw value, variable name) for every ``COACH_*`` variable that sets a field."""
    found = []
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == "COACH_CONFIG":
            continue
        if name in ENV_ALIASES:
            found.append((ENV_ALIASES[name], raw, name))
            continue
        rest = name[len(ENV_PREFIX):]
        if "__" not in rest:
            raise SettingsError(
                f"environment variable {name}: unknown setting; use COACH_<SECTION>__<FIELD>, "
                f"e.g. COACH_LLM__MODE, or one of {', '.join(sorted(ENV_ALIASES))}"
            )
        dotted = ".".join(part.lower() for part in rest.split("__"))
        found.append((dotted, raw, name))
    return found


def _format_validation(err: ValidationError, origin: dict[str, str], file_label: str) -> str:
    lines = []
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"])
        where = origin.get(key) or file_label
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{where}: setting '{key}': {msg}")
    return "invalid settings: " + "; ".join(lines)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build validated settings from ``path`` (or $COACH_CONFIG, or ./coach.yaml) and the environment.

    ``overrides`` (dotted keys) win over both and serve the CLI's flags and tests.
    """
    env = os.environ if env is None else env
    chosen = path or env.get("COACH_CONFIG")
    if chosen is None and Path(DEFAULT_FILE_NAME).is_file():
        chosen = DEFAULT_FILE_NAME
    tree: dict[str, Any] = {}
    origin: dict[str, str] = {}
    file_label = "defaults"
    base_dir = Path.cwd()
    if chosen is not None:
        file = Path(chosen)
        file_label = str(file)
        if not file.is_file():
            raise SettingsError(f"settings file {file} does not exist")
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise SettingsError(f"{file}{line}: broken YAML: {getattr(exc, 'problem', exc)}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise SettingsError(f"{file}: the top level must be a mapping of sections")
        tree = loaded
        base_dir = file.resolve().parent
    for dotted, raw, name in _env_overrides(env):
        value = yaml.safe_load(raw) if raw.strip() else None
        _set_dotted(tree, dotted, value, f"environment variable {name}")
        origin[dotted] = f"environment variable {name}"
    for dotted, value in (overrides or {}).items():
        _set_dotted(tree, dotted, value, f"override {dotted}")
        origin[dotted] = f"option {dotted}"
    tree.setdefault("base_dir", base_dir)
    try:
        return Settings.model_validate(tree)
    except ValidationError as err:
        raise SettingsError(_format_validation(err, origin, file_label)) from None
