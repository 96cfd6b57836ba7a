"""Stage: subject ids and natural keys; duplicates within the file (by natural key); the typed form of the valid
rows with their record ids, content hashes and values as written (written.py), and the rejected rows as read.
Staged columns are documented in docs/ARCHITECTURE.md.

A dry run (`bs-credit check`) stages nothing: it needs the duplicates, not the ids or hashes of staged rows."""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import identifiers as ids
from ..contracts import Contract
from ..parsing import parse_numbers
from . import subjects
from .validate import SheetRun
from .written import as_written, compared_columns

KEY_SEP = "\x1f"
UNIQUE_COLUMNS = ("_natural_key", "_record_id", "_content_hash", "_excel_row")  # a value per row: no dictionary
HEX_COLUMNS = ("_record_id", "_content_hash")  # hex digests: snappy saves ~6 % of the file for most of their cost


def assemble(runs: list[SheetRun], contract: Contract, manifest: dict, workers: int,
             on_run, *, staged: bool = True) -> tuple[pa.Table | None, list[pa.Table]]:
    """The staged table of the file's valid rows and its rejected rows (None and [] without `staged`); a natural key
    repeated in the file is rejected after its first accepted occurrence. `on_run(run)` is called once each run's
    errors are final."""
    typed: list[tuple[SheetRun, dict, np.ndarray, Future]] = []
    rejected: list[pa.Table] = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(runs))), thread_name_prefix="bs-credit-stage") as pool:
        all_keys = list(pool.map(lambda run: _keys(run, contract), runs))
        bads = []
        for run in runs:
            bad = np.zeros(len(run.frame), dtype=bool)
            bad[list(run.errors)] = True
            bads.append(bad)
        # the record ids of the rows without errors, hashed by DuckDB while this thread looks for repeated keys
        hashing = [pool.submit(_record_ids, keys["_natural_key"], np.flatnonzero(~bad)) if staged else None
                   for keys, bad in zip(all_keys, bads)]
        repeats = _repeats([keys["_natural_key"] for keys in all_keys], bads)
        for run, keys, bad, (dup, firsts), hashed in zip(runs, all_keys, bads, repeats, hashing):
            # Duplicates of a natural key within one file: the first accepted occurrence stays, later ones go.
            for i, (first_run, first_row) in zip(np.flatnonzero(dup), firsts):
                first = runs[first_run]
                run.errors.setdefault(int(i), []).append(
                    (None, f"E_DUPLICATE_KEY|{first.match.sheet.name}|{int(first.row_numbers[first_row])}"))
            bad |= dup
            accepted = np.flatnonzero(~bad)
            on_run(run)
            manifest["rows_rejected"] += int(bad.sum())
            manifest["rows_loaded"] += len(accepted)
            if len(accepted) and staged:
                typed.append((run, keys, accepted, hashed))
            if bad.any() and staged:
                rejected.append(_rejected_rows(run, np.flatnonzero(bad)))
        tables = list(pool.map(lambda job: _typed(job[0], contract, job[1], job[2], manifest, job[3]), typed))
    return (pa.concat_tables(tables, promote_options="permissive") if tables else None), rejected


def _keys(run: SheetRun, contract: Contract) -> dict[str, pa.Array]:
    """Subject columns and natural key of every row (rejected rows included: they are not staged)."""
    keys = subjects.resolve(run.frame, contract)
    n = len(run.frame)
    parts = [pa.repeat(pa.scalar(contract.kind), n), keys["_subject_id"]]
    for name in contract.natural_key:
        if name in run.dates:
            parts.append(pc.cast(run.dates[name], pa.string()))
        elif name in run.frame:
            parts.append(pa.array(run.frame[name], pa.string(), from_pandas=True))
        else:
            parts.append(pa.nulls(n, pa.string()))
    key = pc.binary_join_element_wise(*parts, KEY_SEP, null_handling="replace", null_replacement="")
    # a pandas column rewritten row by row (canonical enum values) converts to a chunked array
    keys["_natural_key"] = key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key
    return keys


def _repeats(keys: list[pa.Array], bad: list[np.ndarray]) -> list[tuple[np.ndarray, list[tuple[int, int]]]]:
    """Per run: its accepted rows whose natural key an earlier accepted row of the file (in this run or an earlier
    one) already has, and for each such row the (run, row) of that first occurrence. One hash pass over the file's
    keys (dictionary encoding numbers them in order of first occurrence)."""
    positions = [np.flatnonzero(~b) for b in bad]
    out = [(np.zeros(len(b), dtype=bool), []) for b in bad]
    candidates = pa.concat_arrays([k if len(p) == len(k) else k.take(pa.array(p)) for k, p in zip(keys, positions)])
    encoded = pc.dictionary_encode(candidates)
    if len(encoded.dictionary) == len(candidates):
        return out  # the usual case: nothing repeats
    group = encoded.indices.to_numpy()
    first_pos = np.unique(group, return_index=True)[1][group]  # each row's first row with the same key
    run_of = np.repeat(np.arange(len(keys)), [len(p) for p in positions])
    row_of = np.concatenate(positions)
    for g in np.flatnonzero(first_pos != np.arange(len(candidates))):
        f = first_pos[g]
        mask, firsts = out[run_of[g]]
        mask[row_of[g]] = True
        firsts.append((int(run_of[f]), int(row_of[f])))
    return out


def _typed(run: SheetRun, contract: Contract, keys: dict[str, pa.Array], rows: np.ndarray, manifest: dict,
           hashed: Future) -> pa.Table:
    """The staged form of the valid rows: typed contract columns plus provenance and keys; `hashed`: the record ids
    of a superset of `rows` (`_record_ids`)."""
    n = len(rows)
    everything = n == len(run.frame)  # the usual case: no row rejected, nothing to select
    take = pa.array(rows)

    def pick(values: pa.Array) -> pa.Array:
        return values if everything else values.take(take)

    cols: dict[str, pa.Array] = {}
    for spec in contract.columns:
        if spec.name in run.dates:
            cols[spec.name] = pick(run.dates[spec.name])
        elif spec.name not in run.frame:
            cols[spec.name] = pa.nulls(n, _arrow_type(spec.type))
        else:
            text = pick(pa.array(run.frame[spec.name], pa.string(), from_pandas=True))
            if spec.type == "decimal":
                cols[spec.name] = parse_numbers(text)
            elif spec.type == "integer":
                cols[spec.name] = pc.cast(parse_numbers(text), pa.int64())
            elif spec.name in run.legacy:  # 15-digit citizen IDs: their 18-digit form
                cols[spec.name] = pc.if_else(pa.array(run.legacy[spec.name][rows]), ids.id15_to_18(text), text)
            else:
                cols[spec.name] = text
    table = pa.table(cols)
    raw = {name: pick(values) for name, values in run.raw.items()}
    record_date = run.dates.get(contract.record_date)
    fine, record_ids = hashed.result()
    extra = {
        "_kind": pa.repeat(pa.scalar(contract.kind), n),
        "_domain": pick(pa.array(run.domain, pa.string())),
        "_department": pa.repeat(pa.scalar(manifest["department"]), n),
        "_month": pa.repeat(pa.scalar(manifest["month"]), n),
        "_file_sha256": pa.repeat(pa.scalar(manifest["sha256"]), n),
        "_file_name": pa.repeat(pa.scalar(manifest["file_name"]), n),
        "_sheet": pa.repeat(pa.scalar(run.match.sheet.name), n),
        "_excel_row": pa.array(run.row_numbers[rows], pa.int32()),
        **{k: pick(keys[k]) for k in ("_subject_type", "_subject_id", "_subject_name", "_org_code")},
        "_record_date": pick(record_date) if record_date is not None else pa.nulls(n, pa.date32()),
        "_natural_key": pick(keys["_natural_key"]),
        "_record_id": record_ids if len(fine) == n else record_ids.take(pa.array(np.searchsorted(fine, rows))),
        "_content_hash": _content_hashes(table),
        "_written": as_written(raw, cols, compared_columns(contract)),  # provenance: not in the content hash
    }
    for k, v in extra.items():
        table = table.append_column(k, v)
    return table


def _rejected_rows(run: SheetRun, rows: np.ndarray) -> pa.Table:
    """Rejected rows as read (contract columns only: nothing the contract does not name is kept) + their errors."""
    take = pa.array(rows)
    table = pa.table({name: values.take(take) for name, values in run.raw.items()})
    errors = [json.dumps(sorted({code.split("|")[0] for _, code in run.errors[int(i)]})) for i in rows]
    return (table.append_column("_sheet", pa.repeat(pa.scalar(run.match.sheet.name), len(rows)))
            .append_column("_excel_row", pa.array(run.row_numbers[rows], pa.int32()))
            .append_column("_errors", pa.array(errors, pa.string())))


def _record_ids(keys: pa.Array, rows: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """`rows` and their record ids: the first 32 hex digits of the SHA-256 of each natural key."""
    selected = keys if len(rows) == len(keys) else keys.take(pa.array(rows))
    return rows, _hashed("SELECT substr(sha256(coalesce(k, '')), 1, 32) AS h FROM t", pa.table({"k": selected}))


def _content_hashes(table: pa.Table) -> pa.Array:
    """Each row's content hash: the MD5 of its values as text joined by U+001F, null as '' (change detection
    only: md5 is twice as fast here)."""
    joined = ", ".join(f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in table.column_names)
    return _hashed(f"SELECT md5(concat_ws(chr(31), {joined})) AS h FROM t", table)


def _hashed(sql: str, table: pa.Table) -> pa.Array:
    """Column `h` of `sql` over `table` (as `t`), computed by DuckDB in vectors on its threads."""
    import duckdb  # staging only: a dry run never loads DuckDB

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("t", table)
        return con.sql(sql).to_arrow_table().column("h").combine_chunks()
    finally:
        con.close()


def write_staged(table: pa.Table, path) -> None:
    """The staged Parquet file. The columns that hold a value per row get no dictionary (it never pays) and no
    statistics (nothing filters on their min/max), the hex digests no compression: 1 M rows 1.14 -> 0.89 CPU s for
    a file 6 % larger (bench/RESULTS.md)."""
    import pyarrow.parquet as pq  # staging only: a dry run never loads Parquet

    others = [c for c in table.column_names if c not in UNIQUE_COLUMNS]
    pq.write_table(table, path, use_dictionary=others, write_statistics=others,
                   compression={c: "none" if c in HEX_COLUMNS else "snappy" for c in table.column_names})


def _arrow_type(kind: str) -> pa.DataType:
    return {"date": pa.date32(), "decimal": pa.float64(), "integer": pa.int64()}.get(kind, pa.string())

