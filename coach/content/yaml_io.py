"""The YAML loader every content file goes through.

libyaml's parser when PyYAML was built with it: the bank and the guide's front matter are ~20K
lines, and the pure-Python parser took over a second to read them at every process start.
"""

from __future__ import annotations

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> object:
    """``yaml.safe_load`` semantics, with the C parser when there is one."""
    return yaml.load(text, Loader=LOADER)
