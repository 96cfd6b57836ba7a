"""Who a record is about: subject type, canonical subject id and organisation link key, per row (Arrow, vectorised)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import identifiers as ids
from ..contracts import Contract
from .schema import PERSON_ID_TYPES, Frame

_FAR_FUTURE = dt.date(2999, 12, 31)  # rows reaching here were validated; only the code's shape matters here


def _column(frame: Frame, name: str | None) -> pa.Array | None:
    return frame[name] if name and name in frame else None


def _prefixed(prefix: str, values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(prefix), values, "")


def _where(mask: pa.Array, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, pa.string()))


def _valid_as(kind: pa.Array, shape: str, values: pa.Array, errors) -> pa.Array:
    """Rows classified as `shape` whose `errors` check passes; the check runs on those rows only (a column
    usually holds one shape, so the other checks cost nothing)."""
    is_shape = pc.fill_null(pc.equal(kind, shape), False)
    rows = pc.indices_nonzero(is_shape)
    if len(rows) == len(values):
        return pc.is_null(errors(values))
    ok = np.zeros(len(values), dtype=bool)
    if len(rows):
        ok[rows.to_numpy()] = pc.is_null(errors(values.take(rows))).to_numpy(zero_copy_only=False)
    return pa.array(ok)


def resolve(frame: Frame, contract: Contract) -> dict[str, pa.Array]:
    """`_subject_type`, `_subject_id`, `_subject_name`, `_org_code` for each row of a normalised frame.

    Organisations: the first valid USCC among the contract's org code columns; else a 9-char organisation code
    (`ORG:<code>`, linkable to the USCC whose characters 9-17 equal it; a 15-char tax number embeds one after the
    6-digit division); else another registration number (`REG:<code>`). Persons: the 18-digit citizen ID (15-digit
    ones converted); other ID documents become `XID:<number>`.
    """
    s = contract.subject
    n = len(frame)
    none = pa.nulls(n, pa.string())
    org_id = org_code = legacy = person_from_code = none
    for col in s.org_codes:
        values = _column(frame, col)
        if values is None or values.null_count == n:
            continue
        kind = ids.classify_code(values)
        uscc_ok = _valid_as(kind, "uscc", values, ids.uscc_errors)
        org_ok = _valid_as(kind, "org_code", values, ids.org_code_errors)
        pid_ok = _valid_as(kind, "citizen_id", values, lambda v: ids.citizen_id_errors(v, _FAR_FUTURE))
        org_id = pc.coalesce(org_id, _where(uscc_ok, values))
        org_code = pc.coalesce(org_code, _where(uscc_ok, ids.uscc_org_code(values)), _where(org_ok, values))
        legacy = pc.coalesce(legacy, _where(org_ok, _prefixed("ORG:", values)))
        if col == "tax_no":  # 15-char tax numbers: 6-digit division + the organisation code
            embedded = pc.utf8_slice_codeunits(values, 6)
            emb_ok = pc.and_(pc.equal(pc.utf8_length(values), 15), pc.is_null(ids.org_code_errors(embedded)))
            legacy = pc.coalesce(legacy, _where(emb_ok, _prefixed("ORG:", embedded)))
            org_code = pc.coalesce(org_code, _where(emb_ok, embedded))
        other = pc.invert(pc.fill_null(pc.is_in(kind, pa.array(["uscc", "org_code", "citizen_id"])), False))
        legacy = pc.coalesce(legacy, _where(pc.and_(pc.is_valid(values), other), _prefixed("REG:", values)))
        if pc.any(pid_ok).as_py():
            person_from_code = pc.coalesce(person_from_code, _where(pid_ok, ids.to_canonical_citizen_id(values)))

    person_id = none
    values = _column(frame, s.person_id)
    if values is not None:
        id_type = _column(frame, s.person_id_type)
        is_cid = (pc.is_in(pc.fill_null(id_type, ""), pa.array(sorted(PERSON_ID_TYPES)))
                  if id_type is not None else pa.repeat(True, n))
        kind = ids.classify_code(values)
        person_id = _where(pc.and_(is_cid, pc.equal(kind, "citizen_id")), ids.to_canonical_citizen_id(values))
        other_doc = pc.and_(pc.is_valid(values), pc.invert(is_cid))
        person_id = pc.coalesce(_where(other_doc, _prefixed("XID:", values)), person_id)
    person_id = pc.coalesce(person_id, person_from_code)

    category = _column(frame, s.category)
    org_any = pc.coalesce(org_id, legacy)
    undeclared_person = pc.and_(pc.is_null(org_any), pc.is_valid(person_id))
    if category is not None:
        declared = pc.fill_null(pc.is_in(category, pa.array(list(s.person_categories), pa.string())), False)
        is_person = pc.or_(declared, pc.and_(pc.is_null(category), undeclared_person))
    else:
        is_person = undeclared_person
    is_person = pc.fill_null(is_person, False)
    name = _column(frame, s.name)
    return {
        "_subject_type": pc.if_else(is_person, "person", "org"),
        "_subject_id": pc.if_else(is_person, person_id, org_any),
        "_subject_name": name if name is not None else none,
        "_org_code": pc.if_else(is_person, pa.scalar(None, pa.string()), org_code),
    }
