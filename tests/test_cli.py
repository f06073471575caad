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
