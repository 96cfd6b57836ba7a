"""Values as written: the staged `_written` map of each row, {column: the cell as the department wrote it}, for the
cells intake stored as another value — an enum synonym or older wording, 其他-XXX, a multi-value cell re-joined
(other separators, order, a trailing 的), a domain code or alias, a 15-digit citizen ID stored as its 18-digit form.

A cell counts as changed when its stored text differs from the cell (trimmed) in more than typography: width
(NFKC), spaces, invisible characters and letter case are normalisation, not another value, so `（2026）` stored as
`(2026)` or a lower-case USCC keep nothing. Dates and numbers are stored typed, not as text: the way they were
written (2026/10/3, an Excel serial) is a format, and is not kept. Free text is stored as written (trimmed). A row
with nothing changed has a null map, so unchanged values store nothing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contracts import Contract
from ..identifiers import trim_text

WRITTEN_TYPE = pa.map_(pa.string(), pa.string())
TYPED = frozenset({"date", "decimal", "integer"})
_TYPOGRAPHY = r"[\s\x{200B}-\x{200D}\x{2060}\x{FEFF}]+"


def compared_columns(contract: Contract) -> list[str]:
    """The columns whose stored text may be another value than the cell: enums, codes, the natural key's text."""
    return [c.name for c in contract.columns
            if c.type not in TYPED and (c.type != "text" or c.name in contract.natural_key)]


def _fold(values: pa.Array) -> pa.Array:
    """A text without its typography: NFKC, no spaces or invisible characters, lower-case."""
    return pc.utf8_lower(pc.replace_substring_regex(pc.utf8_normalize(values, "NFKC"), _TYPOGRAPHY, ""))


def as_written(raw: dict[str, pa.Array], stored: dict[str, pa.Array], columns: list[str]) -> pa.Array:
    """Per row, {column: cell as written} for the `columns` whose `stored` text is another value than the `raw`
    cell (both for the same rows); null where nothing changed."""
    n = len(next(iter(stored.values()))) if stored else 0
    rows, keys, values = [], [], []
    for name in columns:
        if name not in raw or name not in stored:
            continue
        written = trim_text(raw[name])
        differs = pc.fill_null(pc.not_equal(written, stored[name]), False)
        candidates = np.flatnonzero(differs.to_numpy(zero_copy_only=False))
        if not len(candidates):
            continue
        take = pa.array(candidates)
        cells = written.take(take)
        other = pc.not_equal(_fold(cells), _fold(stored[name].take(take))).to_numpy(zero_copy_only=False)
        hit = candidates[np.asarray(other, dtype=bool)]
        if len(hit):
            rows.append(hit)
            keys.append(np.full(len(hit), name, dtype=object))
            values.append(cells.filter(pa.array(other)))
    if not rows:
        return pa.nulls(n, WRITTEN_TYPE)
    row = np.concatenate(rows)
    order = np.argsort(row, kind="stable")  # by row, then in contract column order
    counts = np.bincount(row, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    empty = np.append(counts == 0, False)  # a null offset marks a null map
    return pa.MapArray.from_arrays(pa.array(offsets, mask=empty), pa.array(np.concatenate(keys)[order], pa.string()),
                                   pa.concat_arrays(values).take(pa.array(order)))
