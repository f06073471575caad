"""Grading an answer against a rubric: matching, answer checks, the critique and its text form."""
