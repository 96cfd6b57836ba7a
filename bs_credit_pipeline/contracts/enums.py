"""Enum cells → canonical values: the contract's values, their synonyms and older official wordings, `其他-XXX`
where the standard allows it, and multi-value cells parsed by matching the allowed values.

A multi-value cell is read left to right: at each position the longest allowed value (or synonym) that ends at a
separator (、 ， , ； ; / or a line break, full- or half-width, with stray spaces) or at the end of the cell is
taken, so values that themselves contain 、 (以伪造证据、暴力、威胁等方法妨碍、抗拒执行) are kept whole. A trailing
的 (the wording of the statutes' lists) is optional. What matches nothing up to the next separator is an unknown part.
Comparison is after NFKC, without whitespace, case-folded. Intake calls `parse` once per distinct cell value.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

SEPARATORS = "、,;/\n\r"  # after NFKC: ， → ,  ； → ;  ／ → /
JOIN = "、"
_OTHER_MARKS = "-—–－:：(（"  # 其他-护照, 其他：护照, 其他（护照）
_SPACES = re.compile(r"[^\S\r\n]+")  # whitespace but line breaks (a separator)


def key(text: str) -> str:
    """The comparison form of a value: NFKC, spaces removed (line breaks kept: they separate values), case-folded."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class Parsed:
    values: tuple[str, ...]  # canonical values, in the contract's order, without repeats
    unknown: tuple[str, ...]  # parts matching no allowed value (as written, trimmed)
    reworded: bool  # a synonym, an older wording or 其他-XXX was mapped to a canonical value

    @property
    def text(self) -> str:
        return JOIN.join(self.values)


@dataclass(frozen=True)
class Vocabulary:
    """The allowed values of one enum column and every wording that maps to them."""

    values: tuple[str, ...]
    lookup: dict[str, tuple[tuple[str, ...], bool]]  # key -> (canonical values, reworded)
    other: str | None  # the value that may carry a specification: 其他-XXX
    multi: bool
    longest_first: tuple[str, ...]  # the keys of `lookup`, longest first

    def parse(self, text: str) -> Parsed:
        """The canonical reading of one (non-empty) cell."""
        s = key(text)
        if not self.multi:
            found = self._whole(s)
            if found is None:
                return Parsed((), (text.strip(),), False)
            return Parsed(found[0], (), found[1])
        found, unknown, reworded = [], [], False
        i, n = 0, len(s)
        while i < n:
            while i < n and s[i] in SEPARATORS:
                i += 1
            if i >= n:
                break
            hit = self._at(s, i)
            if hit is None:
                end = _next_separator(s, i)
                unknown.append(s[i:end])
                i = end
                continue
            end, values, changed = hit
            found.extend(values)
            reworded |= changed
            i = end
        order = {v: k for k, v in enumerate(self.values)}
        return Parsed(tuple(sorted(set(found), key=order.__getitem__)), tuple(unknown), reworded)

    def _whole(self, s: str) -> tuple[tuple[str, ...], bool] | None:
        hit = self.lookup.get(s) or self.lookup.get(s.removesuffix("的"))
        if hit is None and self.other and s.startswith(key(self.other)) and s[len(key(self.other)):][:1] in _OTHER_MARKS:
            if len(s) > len(key(self.other)) + 1:
                return (self.other,), True
        return hit

    def _at(self, s: str, i: int) -> tuple[int, tuple[str, ...], bool] | None:
        """The longest wording starting at `i` that ends at a separator or the end: (end, values, reworded)."""
        for k in self.longest_first:
            if s.startswith(k, i):
                end = i + len(k)
                if end < len(s) and s[end] == "的":
                    end += 1
                if end == len(s) or s[end] in SEPARATORS:
                    values, changed = self.lookup[k]
                    return end, values, changed
        if self.other:
            o = key(self.other)
            if s.startswith(o, i) and i + len(o) < len(s) and s[i + len(o)] in _OTHER_MARKS:
                end = _next_separator(s, i + len(o) + 1)
                if end > i + len(o) + 1:
                    return end, (self.other,), True
        return None

    def suggest(self, part: str) -> str | None:
        """The allowed value (or the value a synonym stands for) closest to an unknown part, if one is close."""
        keys = list(self.lookup)
        close = difflib.get_close_matches(key(part), keys, n=1, cutoff=0.5)
        if not close:
            close = [k for k in keys if len(k) >= 2 and (k in key(part) or key(part) in k)][:1]
        return JOIN.join(self.lookup[close[0]][0]) if close else None


def _next_separator(s: str, i: int) -> int:
    while i < len(s) and s[i] not in SEPARATORS:
        i += 1
    return i


_CACHE: dict[tuple, Vocabulary] = {}


def vocabulary(values: tuple[str, ...], synonyms: tuple[tuple[str, tuple[str, ...]], ...] = (),
               other: str | None = None, multi: bool = False) -> Vocabulary:
    """The (cached) vocabulary of an enum column; `synonyms`: (wording, canonical values) pairs."""
    cache_key = (values, synonyms, other, multi)
    if cache_key not in _CACHE:
        lookup: dict[str, tuple[tuple[str, ...], bool]] = {}
        for written, targets in synonyms:
            lookup[key(written)] = (tuple(targets), True)
            lookup.setdefault(key(written).removesuffix("的"), (tuple(targets), True))
        for v in values:  # a value's own wording wins over a synonym
            lookup[key(v)] = ((v,), False)
            lookup.setdefault(key(v).removesuffix("的"), ((v,), False))
        _CACHE[cache_key] = Vocabulary(values, lookup, other, multi, tuple(sorted(lookup, key=len, reverse=True)))
    return _CACHE[cache_key]


def of_column(spec) -> Vocabulary:
    """The vocabulary of an enum `ColumnSpec`."""
    return vocabulary(tuple(spec.values or ()), tuple((k, tuple(v)) for k, v in spec.synonyms.items()),
                      spec.other, spec.multi)


def ambiguities(values: tuple[str, ...]) -> list[str]:
    """Values a multi-value cell could not tell apart: equal after normalisation, or one value readable as
    several others joined by separators."""
    problems = []
    keys = [key(v) for v in values]
    for k in set(keys):
        same = [v for v, kk in zip(values, keys) if kk == k]
        if len(same) > 1:
            problems.append(f"values {' / '.join(same)} are the same after normalisation")
    for v in values:
        if not any(ch in SEPARATORS for ch in key(v)):
            continue
        others = vocabulary(tuple(x for x in values if x != v), multi=True).parse(v)
        if not others.unknown and len(others.values) > 1:
            problems.append(f"value {v!r} reads as several values ({JOIN.join(others.values)})")
    return problems
