"""The eval suite: a runnable package apart from the unit tests (``python -m evals``, ``coach eval``).

Labelled data lives in ``evals/data``, targets in ``evals/thresholds.yaml`` and the latest report in
``evals/reports``; ``tests/test_evals.py`` asserts a fast subset.
"""
