"""The `coach` command as a subprocess: what reaches the terminal."""

from __future__ import annotations


def test_cli_survives_invalid_utf8_in_arguments_and_stdin(tmp_path, knowledge):
    """Bytes that are not UTF-8 in argv or stdin: a clear line or replacement, never a traceback."""
    import os
    import subprocess
    import sys

    from tests.conftest import write_config

    cfg = write_config(tmp_path, knowledge, llm={"mode": "fake"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    base = [sys.executable, "-m", "coach.cli", "--config", str(cfg)]
    proc = subprocess.run(base + ["report", os.fsdecode(b"bad-\xff\xfe-id")], capture_output=True, env=env,
                          timeout=300)
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr, proc.stderr[-800:]
    assert b"no session" in proc.stderr
    practice = subprocess.run(base + ["practice", "--question", "fx-q01"], capture_output=True, env=env,
                              input=b"How late do chargebacks \xff\xfe arrive?\n\nWe wait for labels \xc3 to mature"
                                    b" and use PR-AUC.\n\ndone\n\n", timeout=300)
    assert b"Traceback" not in practice.stderr, practice.stderr[-800:]
    assert practice.returncode == 0 and b"Report: coach report" in practice.stdout


def test_practice_replays_a_script_as_json(tmp_path, knowledge):
    """`coach practice --question ID --script FILE --json`: the candidate's turns from a file, the
    transcript as JSON turns (role, kind, point, text); a broken script names the file and turn."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import write_config

    cfg = write_config(tmp_path, knowledge, llm={"mode": "fake"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    base = [sys.executable, "-m", "coach.cli", "--config", str(cfg), "practice"]
    script = tmp_path / "script.yaml"
    script.write_text("turns:\n  - How late do chargebacks arrive?\n"
                      "  - We wait for chargeback labels to mature for 60 days before training, and compare "
                      "models on PR-AUC because fraud is rare.\n"
                      "  - text: Here is the flow.\n    diagram: |\n      flowchart LR\n"
                      "        A[Transactions] --> B[Scoring model]\n  - done\n", encoding="utf-8")
    proc = subprocess.run(base + ["--question", "fx-q01", "--script", str(script), "--json"], capture_output=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-800:]
    turns = json.loads(proc.stdout)
    assert all(set(t) == {"role", "kind", "point", "text"} for t in turns)
    assert [t["kind"] for t in turns[:3]] == ["question", "clarify-question", "clarify-answer"]
    assert turns[3] == {"role": "candidate", "kind": "answer", "point": None, "text": turns[3]["text"]}
    follow = turns[4]
    assert follow["role"] == "coach" and follow["kind"] in {"gap", "depth", "challenge", "twist", "wrap-up"}
    assert follow["point"] is not None or follow["kind"] in {"twist", "wrap-up"}
    assert turns[-1]["kind"] == "critique" and "Your diagram" in turns[-1]["text"]

    script.write_text("turns:\n  - fine\n  - {texts: oops}\n", encoding="utf-8")
    bad = subprocess.run(base + ["--question", "fx-q01", "--script", str(script)], capture_output=True, env=env,
                         timeout=300)
    assert bad.returncode != 0 and b"Traceback" not in bad.stderr
    assert f"{script}: turn 2: write text, or a mapping".encode() in bad.stderr
