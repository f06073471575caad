"""``python -m evals [--fast] [--skip-llm] [--out DIR]``: run the eval suite and write the report."""

import sys

from evals.run import main

sys.exit(main())
