"""The ``coach`` command: a thin edge that parses arguments, calls services and prints.

Expected errors (``CoachError``) become one line on stderr and a non-zero exit code, never a
traceback. Imports are lazy so ``coach --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from coach.errors import CoachError, QueryError
from coach.settings import LEVELS, TOPICS

Handler = Callable[[argparse.Namespace], int]


def _coach(args: argparse.Namespace) -> Any:
    from coach.core import Coach

    overrides = {}
    if getattr(args, "llm", None):
        overrides["llm__mode"] = args.llm
    return Coach.from_settings(args.config, **overrides)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_ingest(args: argparse.Namespace) -> int:
    coach = _coach(args)
    report = coach.ingest(rebuild=args.rebuild, progress=sys.stderr.isatty() or args.progress,
                          log=lambda m: print(m, file=sys.stderr))
    print(report.table())
    return 0


def cmd_retrieve(args: argparse.Namespace) -> int:
    coach = _coach(args)
    hits = coach.retrieve(args.query, k=args.k, topic=args.topic)
    if args.json:
        _print_json([h.as_json() for h in hits])
        return 0
    for h in hits:
        print(f"{h.rank}. [{h.topic}] {h.heading}  ({h.section_id}, score {h.score:.4f})")
        body = h.text.split("\n\n", 1)[-1].replace("\n", " ")
        print(f"   {body[:240]}{'...' if len(body) > 240 else ''}")
        print(f"   source: knowledge/{h.source}")
    return 0


def _read_answer(args: argparse.Namespace) -> str:
    from pathlib import Path

    from coach.errors import QueryError

    if args.answer_file:
        path = Path(args.answer_file)
        if str(path) == "-":
            return sys.stdin.read()
        if not path.is_file():
            raise QueryError(f"--answer-file {path} does not exist")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise QueryError(f"--answer-file {path} is not UTF-8 text") from None
    return args.answer


def cmd_grade(args: argparse.Namespace) -> int:
    from coach.grading.report import grade_text

    coach = _coach(args)
    result = coach.grade(args.question, _read_answer(args))
    if args.json:
        _print_json(result.as_json())
    else:
        print(grade_text(result))
    return 0


def _stream(chunks) -> str:
    parts = []
    for chunk in chunks:
        parts.append(chunk)
        sys.stdout.write(chunk)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return "".join(parts)


def cmd_practice(args: argparse.Namespace) -> int:
    coach = _coach(args)
    engine = coach.engine
    if args.script:
        return _replay(coach, args)
    if args.json:
        raise QueryError("--json goes with --script (the interactive interview prints as it goes)")
    if args.resume:
        view = engine.view(args.resume)
        print(f"Resuming session {view.session_id} ({view.topic}, {view.level}).\n")
        for role, kind, content in view.transcript:
            print(f"{'Interviewer' if role == 'coach' else 'You'}: {content}\n")
        pending = engine.unanswered(view.session_id)  # a reply a crash cut off is given now
        if pending is not None and _say(pending, view.session_id):
            return 0
    else:
        if args.question is not None and (args.topic or args.level or args.weakest):
            raise QueryError("--question picks the question; leave out --topic, --level and --weakest")
        view = (engine.start(question_text=args.question) if args.question is not None
                else engine.start(topic=args.topic, level=args.level, weakest=args.weakest))
        print(f"Session {view.session_id} — {view.topic}, {view.level} ({view.question_id})\n")
        if view.graded_against:
            print(f"(!) {view.graded_against}\n")
        print(f"Interviewer: {view.question}\n")
    print("Answer in as many turns as you like (a blank line sends). Ask clarifying questions any time;"
          " type 'done' for the critique.\n")
    while True:
        lines = []
        try:
            while True:
                line = input("You> " if not lines else "...> ")
                if not line.strip():
                    break
                lines.append(line)
        except EOFError:
            if not lines:
                print(f"\nSession saved; resume with: coach practice --resume {view.session_id}")
                return 0
        text = "\n".join(lines).strip()
        if not text:
            continue
        try:
            reply = engine.respond(view.session_id, text)
        except CoachError as exc:
            print(f"(!) {exc}")
            continue
        print()
        if _say(reply, view.session_id):
            return 0


def _replay(coach, args: argparse.Namespace) -> int:
    """Play a script of candidate turns; print the transcript (JSON with --json)."""
    from coach.practice.replay import load_script, replay, transcript

    named, turns = load_script(Path(args.script))
    question_id = args.question or named
    if question_id is None:
        raise QueryError(f"{args.script}: name the question with --question ID (or 'question:' in the script)")
    session_id = replay(coach.engine, question_id, turns)
    turns_out = transcript(coach.engine, session_id)
    if args.json:
        print(json.dumps(turns_out, indent=2, ensure_ascii=False))
        return 0
    for turn in turns_out:
        who = "Interviewer" if turn["role"] == "coach" else "You"
        print(f"{who} [{turn['kind']}{', ' + turn['point'] if turn['point'] else ''}]: {turn['text']}\n")
    print(f"Report: coach report {session_id}")
    return 0


def _say(reply, session_id: str) -> bool:
    """Stream the interviewer's reply; True when it ended the session (the report command is shown)."""
    print("Interviewer: ", end="")
    _stream(reply.chunks)
    print()
    if reply.done:
        print(f"Report: coach report {session_id}")
    return reply.done


def cmd_ask(args: argparse.Namespace) -> int:
    coach = _coach(args)
    if args.session:
        result = coach.ask_in_session(args.session, args.question, topic=args.topic)
    else:
        result = coach.ask(args.question, topic=args.topic)
    if args.json:
        _print_json(result.as_json())
        return 0
    print(result.answer)
    if result.citations:
        print("\nSources:")
        for c in result.citations:
            print(f"  [{c.n}] {c.heading} — knowledge/{c.source}")
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    coach = _coach(args)
    print(coach.progress_text())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    coach = _coach(args)
    text = coach.report(args.session_id)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def cmd_guide(args: argparse.Namespace) -> int:
    from pathlib import Path

    from coach.content.guide_table import guide_table, replace_table

    coach = _coach(args)
    table = guide_table(coach.guide)
    if args.update_readme:
        readme = Path(args.update_readme)
        readme.write_text(replace_table(readme.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"updated the guide table in {readme}")
    elif args.markdown:
        print(table)
    else:
        for topic in TOPICS:
            print(topic)
            for s in coach.guide.by_topic(topic):
                print(f"  {s.id:<30} {s.word_count:>5} words  {s.title}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from coach.ui.app import serve

    coach = _coach(args)
    serve(coach, host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from evals.run import run

    return run(fast=args.fast, skip_llm=args.skip_llm, out=args.out, config=args.config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Offline coach for AI / ML system design interviews.",
        epilog="Settings: coach.yaml (or --config / $COACH_CONFIG) plus COACH_<SECTION>__<FIELD> variables.",
    )
    parser.add_argument("--config", help="settings YAML file (default: $COACH_CONFIG or ./coach.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="chunk, embed and load the guide into the index (incremental)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("retrieve", help="search the guide (hybrid dense + BM25)")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    p.add_argument("--topic", choices=TOPICS, help="only this topic")
    p.add_argument("--json", action="store_true", help="print a JSON list of hits")
    p.set_defaults(func=cmd_retrieve)

    p = sub.add_parser("grade", help="grade an answer against the rubric of a question")
    p.add_argument("--question", required=True, help="a bank question id (e.g. arch-q01) or the question's text")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--answer", help="the answer text")
    group.add_argument("--answer-file", help="a file holding the answer ('-' reads standard input)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("practice", help="an interactive practice interview in the terminal")
    p.add_argument("--topic", choices=TOPICS)
    p.add_argument("--level", choices=LEVELS)
    p.add_argument("--weakest", action="store_true", help="pick from your weakest dimension")
    p.add_argument("--question", help="a bank question id (e.g. arch-q01) or your own question's text")
    p.add_argument("--resume", metavar="SESSION_ID", help="continue an unfinished session")
    p.add_argument("--script", metavar="FILE", help="play the candidate turns in this YAML/JSON file (no prompts)")
    p.add_argument("--json", action="store_true", help="with --script: print the transcript as JSON")
    p.add_argument("--llm", choices=["smollm2", "ollama", "openai", "fake"], help="override llm.mode")
    p.set_defaults(func=cmd_practice)

    p = sub.add_parser("ask", help="ask the guide a question; answers cite their sources")
    p.add_argument("question")
    p.add_argument("--topic", choices=TOPICS)
    p.add_argument("--json", action="store_true", help="print answer, citations and grounded as JSON")
    p.add_argument("--session", metavar="ID", help="a named conversation: follow-ups are read with the last question")
    p.add_argument("--llm", choices=["smollm2", "ollama", "openai", "fake"], help="override llm.mode")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("progress", help="mastery per topic and dimension, recent sessions, what to practise next")
    p.set_defaults(func=cmd_progress)

    p = sub.add_parser("report", help="write a session as Markdown")
    p.add_argument("session_id")
    p.add_argument("-o", "--output", help="file to write (default: print)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("guide", help="list the guide's topics and sections")
    p.add_argument("--markdown", action="store_true", help="print the README table")
    p.add_argument("--update-readme", metavar="README", help="rewrite the table between the markers in README")
    p.set_defaults(func=cmd_guide)

    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host", help="bind address (default from settings: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default from settings: 7860)")
    p.add_argument("--llm", choices=["smollm2", "ollama", "openai", "fake"], help="override llm.mode")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="run the eval suite and write evals/reports/latest.{md,json}")
    p.add_argument("--fast", action="store_true", help="the fast subset the tests assert (no embedded model)")
    p.add_argument("--skip-llm", action="store_true", help="leave out the parts that run the embedded model")
    p.add_argument("--out", metavar="DIR", help="report folder (default evals/reports)")
    p.set_defaults(func=cmd_eval)
    return parser


def _tolerate_bad_text(args: argparse.Namespace) -> None:
    """Undecodable bytes in arguments or on stdin become U+FFFD instead of a UnicodeError."""
    from coach.text import clean_text

    for name, value in vars(args).items():
        if isinstance(value, str):
            setattr(args, name, clean_text(value))
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _tolerate_bad_text(args)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except CoachError as exc:
        print(f"coach {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
