"""Packages refused to an import, as an install without them would refuse them: pandera loads pandas and
pyspark.pandas wherever they are installed, pyarrow loads pandas on its first array; intake uses neither."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class Refused:
    """Import hook: the packages `roots` (and their submodules) raise the ModuleNotFoundError of a missing package,
    which pandera and pyarrow read as "not installed" and go on without. Modules already imported are unaffected."""

    def __init__(self, *roots: str):
        self.roots = frozenset(roots)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.roots:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@contextmanager
def refused(*roots: str) -> Iterator[None]:
    """`Refused(*roots)` for the imports inside the block."""
    hook = Refused(*roots)
    sys.meta_path.insert(0, hook)
    try:
        yield
    finally:
        sys.meta_path.remove(hook)
