"""Who a record is about: subject type, canonical subject id and organisation link key, per row (vectorised)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from . import identifiers as ids
from .contracts import Contract
from .validation import PERSON_ID_TYPES

_FAR_FUTURE = dt.date(2999, 12, 31)  # rows reaching here were validated; only the code shape matters


def _arr(frame: pd.DataFrame, name: str | None) -> np.ndarray:
    if not name or name not in frame:
        return np.full(len(frame), None, dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), None).to_numpy(dtype=object)


def _np(values) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return np.asarray(values.to_pylist(), dtype=object)
    return np.asarray(values, dtype=object)


def resolve(frame: pd.DataFrame, contract: Contract) -> dict[str, np.ndarray]:
    """`_subject_type`, `_subject_id`, `_subject_name`, `_org_code` for each row of a normalised frame.

    Organisations: the first valid USCC among the contract's org code columns; else a 9-char organisation code
    (`ORG:<code>`, linkable to the USCC whose characters 9-17 equal it; a 15-char tax number embeds one after the
    6-digit division); else another registration number (`REG:<code>`). Persons: the 18-digit citizen ID (15-digit
    ones converted); other ID documents become `XID:<number>`.
    """
    s = contract.subject
    n = len(frame)
    org_id = np.full(n, None, dtype=object)
    org_code = np.full(n, None, dtype=object)
    legacy = np.full(n, None, dtype=object)
    person_from_code = np.full(n, None, dtype=object)
    for col in s.org_codes:
        values = _arr(frame, col)
        if not any(v is not None for v in values):
            continue
        arr = pa.array(values, type=pa.string())
        kind = _np(ids.classify_code(arr))
        uscc_ok = (kind == "uscc") & pd.isna(_np(ids.uscc_errors(arr)))
        org_ok = (kind == "org_code") & pd.isna(_np(ids.org_code_errors(arr)))
        pid_ok = (kind == "citizen_id") & pd.isna(_np(ids.citizen_id_errors(arr, _FAR_FUTURE)))
        take = uscc_ok & pd.isna(org_id)
        org_id[take] = values[take]
        org_code[take] = _np(ids.uscc_org_code(pa.array(values[take], type=pa.string())))
        take = org_ok & pd.isna(legacy)
        legacy[take] = np.char.add("ORG:", values[take].astype(str)) if take.any() else legacy[take]
        org_code[take & pd.isna(org_code)] = values[take & pd.isna(org_code)]
        if col == "tax_no":
            tax15 = np.array([v is not None and len(v) == 15 for v in values])
            embedded = np.array([v[6:] if t else None for v, t in zip(values, tax15)], dtype=object)
            emb_ok = tax15 & pd.isna(_np(ids.org_code_errors(pa.array(embedded, type=pa.string()))))
            sel = emb_ok & pd.isna(legacy)
            legacy[sel] = np.char.add("ORG:", embedded[sel].astype(str)) if sel.any() else legacy[sel]
            org_code[sel & pd.isna(org_code)] = embedded[sel & pd.isna(org_code)]
        other = pd.notna(values) & ~(kind == "uscc") & ~(kind == "org_code") & ~(kind == "citizen_id") & pd.isna(legacy)
        legacy[other] = np.char.add("REG:", values[other].astype(str)) if other.any() else legacy[other]
        sel = pid_ok & pd.isna(person_from_code)
        person_from_code[sel] = _np(ids.to_canonical_citizen_id(pa.array(values[sel], type=pa.string())))

    person_id = np.full(n, None, dtype=object)
    if s.person_id and s.person_id in frame:
        values = _arr(frame, s.person_id)
        id_type = _arr(frame, s.person_id_type)
        is_cid = np.array([(t or "") in PERSON_ID_TYPES for t in id_type], dtype=bool)
        arr = pa.array(values, type=pa.string())
        kind = _np(ids.classify_code(arr))
        cid = _np(ids.to_canonical_citizen_id(arr))
        person_id = np.where(is_cid & (kind == "citizen_id"), cid, None)
        other_doc = pd.notna(values) & ~is_cid
        person_id[other_doc] = np.char.add("XID:", values[other_doc].astype(str)) if other_doc.any() else person_id[other_doc]
    person_id = np.where(pd.isna(person_id), person_from_code, person_id)

    category = _arr(frame, s.category)
    declared_person = np.array([c in s.person_categories for c in category], dtype=bool)
    no_category = pd.isna(category)
    org_any = np.where(pd.isna(org_id), legacy, org_id)
    is_person = declared_person | (no_category & pd.isna(org_any) & pd.notna(person_id))
    subject_id = np.where(is_person, person_id, org_any)
    subject_type = np.where(is_person, "person", "org").astype(object)
    org_code = np.where(is_person, None, org_code)
    return {
        "_subject_type": subject_type,
        "_subject_id": subject_id,
        "_subject_name": _arr(frame, s.name),
        "_org_code": org_code,
    }

