"""YAML files of the project (contracts, rules, registries, privacy), read with libyaml's safe loader.

`yaml.safe_load` parses in pure Python: ~80 ms for the rule files of one list build. `CSafeLoader` parses in C
and builds the same Python values (the tag resolvers, dates included, are PyYAML's own); PyYAML built without
libyaml falls back to the pure-Python `SafeLoader`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """The value of one YAML document (raises yaml.YAMLError like yaml.safe_load)."""
    return yaml.load(text, Loader=LOADER)


def read(path: str | Path) -> Any:
    """The value of the UTF-8 YAML file at `path`."""
    return load(Path(path).read_text(encoding="utf-8"))
