"""DuckDB SQL -> Spark SQL with sqlglot, plus the named transforms for DuckDB functions Spark lacks or spells
differently in a way sqlglot's generator does not cover. Pure: no Spark needed (tests run it without Java).

Each transform takes and returns a sqlglot expression tree (DuckDB dialect, after parsing) and is listed in
TRANSFORMS with the DuckDB construct it handles; docs/LAKE.md ("Spark SQL") lists them for readers.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence

import sqlglot
from sqlglot import exp


class NotPortable(Exception):
    """A statement the Spark engine cannot run (named in /work/notes/spark-portability.md style: what and why)."""


def literal(value) -> exp.Expression:
    """A Python parameter value as a SQL literal (dates typed, lists as arrays)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float, decimal.Decimal)):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[literal(v) for v in value])
    return exp.Literal.string(str(value))


def bind(tree: exp.Expression, params: Sequence | Mapping | None) -> exp.Expression:
    """Replace `?` (positional) and `$name` (named) placeholders by literals."""
    if params is None:
        return tree
    positional = iter(params) if not isinstance(params, Mapping) else iter(())

    def swap(node):
        if isinstance(node, exp.Placeholder):
            name = node.args.get("this")
            if name:
                if not isinstance(params, Mapping) or name not in params:
                    raise NotPortable(f"parameter ${name} has no value")
                return literal(params[name])
            try:
                return literal(next(positional))
            except StopIteration:
                raise NotPortable("more ? placeholders than parameters") from None
        return node
    return tree.transform(swap)


def _func(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def list_bool_aggregates(tree: exp.Expression, sql: str) -> exp.Expression:
    """list_bool_and / list_bool_or(list) -> array_min / array_max (false < true; nulls skipped; empty -> NULL,
    as in DuckDB)."""
    def swap(node):
        if isinstance(node, exp.Anonymous) and node.name.lower() in ("list_bool_and", "list_bool_or"):
            return _func("ARRAY_MIN" if node.name.lower() == "list_bool_and" else "ARRAY_MAX", *node.expressions)
        return node
    return tree.transform(swap)


def list_len_is_size(tree: exp.Expression, sql: str) -> exp.Expression:
    """DuckDB len(list) -> size(list): sqlglot reads len() as string length. Told apart by the name written
    (the list SQL writes len() for lists and length() for strings)."""
    def swap(node):
        if isinstance(node, exp.Length):
            start, end = node.meta.get("start"), node.meta.get("end")
            if start is not None and sql[start:end + 1].lower() == "len":
                return _func("SIZE", node.this)
        return node
    return tree.transform(swap)


def json_extract_list(tree: exp.Expression, sql: str) -> exp.Expression:
    """json_extract_string(json, [path, ...]) -> array(get_json_object(json, path), ...): DuckDB extracts a list of
    paths at once; Spark's get_json_object takes one path."""
    def swap(node):
        if isinstance(node, (exp.JSONExtractScalar, exp.JSONExtract)) and isinstance(node.expression, exp.Array):
            return exp.Array(expressions=[
                _func("GET_JSON_OBJECT", node.this.copy(), p.copy()) for p in node.expression.expressions])
        return node
    return tree.transform(swap)


def json_wildcard_field_list(tree: exp.Expression, sql: str) -> exp.Expression:
    """CAST(json_extract_string(j, '$[*].f') AS VARCHAR[]) -> transform(from_json(j, 'array<struct<f:string>>'),
    e -> e.f): Spark's get_json_object unwraps a one-element wildcard match."""
    def swap(node):
        if (isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.ARRAY)
                and isinstance(node.this, exp.JSONExtractScalar)):
            path = node.this.expression
            text = path.name if isinstance(path, (exp.Literal, exp.JSONPath)) else None
            if isinstance(path, exp.JSONPath):
                text = path.sql(dialect="duckdb").strip("'")
            if text and text.startswith("$[*].") and text[5:].isidentifier():
                field = text[5:]
                parsed = _func("FROM_JSON", node.this.this.copy(),
                               exp.Literal.string(f"array<struct<{field}:string>>"))
                return sqlglot.parse_one(f"TRANSFORM(x, e -> e.{field})", read="spark").transform(
                    lambda n: parsed if isinstance(n, exp.Column) and n.name == "x" and not n.table else n)
        return node
    return tree.transform(swap)


def nested_to_json(tree: exp.Expression, sql: str) -> exp.Expression:
    """to_json(... to_json(x) ...) -> to_json(... x ...): DuckDB's to_json returns JSON, which an outer to_json
    embeds as is; Spark's returns a string, which an outer to_json would quote. The outer call serialises x alike."""
    def is_to_json(node) -> bool:
        return isinstance(node, exp.JSONFormat) or (isinstance(node, exp.Anonymous)
                                                    and node.name.lower() == "to_json")

    def unwrap(node):
        return (node.expressions[0] if isinstance(node, exp.Anonymous) else node.this) if is_to_json(node) else node

    for outer in [n for n in tree.find_all(exp.Anonymous, exp.JSONFormat) if is_to_json(n)]:
        if outer.parent is None and outer is not tree:
            continue  # already unwrapped inside an enclosing to_json
        for inner in [n for n in outer.find_all(exp.Anonymous, exp.JSONFormat) if n is not outer and is_to_json(n)]:
            inner.replace(unwrap(inner))
    return tree


def months_interval(tree: exp.Expression, sql: str) -> exp.Expression:
    """date +/- to_months(n) (or to_years(n)) -> add_months(date, +/-n) (same end-of-month clamping)."""
    def months(node):
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_months":
            return node.expressions[0]
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_years":
            return exp.Mul(this=exp.Literal.number(12), expression=exp.Paren(this=node.expressions[0].copy()))
        if isinstance(node, exp.Interval) and node.unit and node.unit.name.upper() in ("MONTH", "MONTHS"):
            return node.this
        if isinstance(node, exp.Interval) and node.unit and node.unit.name.upper() in ("YEAR", "YEARS"):
            return exp.Mul(this=exp.Literal.number(12), expression=exp.Paren(this=node.this.copy()))
        return None

    def swap(node):
        if isinstance(node, (exp.Add, exp.Sub)):
            m = months(node.expression)
            if m is not None:
                n = m.copy() if isinstance(node, exp.Add) else exp.Neg(this=exp.Paren(this=m.copy()))
                return _func("ADD_MONTHS", node.this.copy(), n)
        return node
    return tree.transform(swap)


def ordered_list_aggregate(tree: exp.Expression, sql: str) -> exp.Expression:
    """list(x ORDER BY k) -> transform(array_sort(collect_list(struct(k, x))), s -> s.v): collect_list has no
    order."""
    def swap(node):
        if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
            order = node.this
            keys = [o.this.copy() for o in order.expressions]
            value = order.this.copy()
            struct = exp.Struct(expressions=[
                *(exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=k) for i, k in enumerate(keys)),
                exp.PropertyEQ(this=exp.to_identifier("v"), expression=value)])
            collected = _func("COLLECT_LIST", struct)
            sorted_ = _func("ARRAY_SORT", collected)
            lam = exp.Lambda(this=exp.Dot(this=exp.column("s"), expression=exp.to_identifier("v")),
                             expressions=[exp.to_identifier("s")])
            return _func("TRANSFORM", sorted_, lam)
        return node
    return tree.transform(swap)


def array_overlap(tree: exp.Expression, sql: str) -> exp.Expression:
    """list_has_any(a, b) (sqlglot writes a && b) -> arrays_overlap(a, b)."""
    def swap(node):
        if isinstance(node, exp.ArrayOverlaps):
            return _func("ARRAYS_OVERLAP", node.this.copy(), node.expression.copy())
        return node
    return tree.transform(swap)


def timezone_of_instant(tree: exp.Expression, sql: str) -> exp.Expression:
    """timezone(zone, timestamptz) -> from_utc_timestamp(ts, zone): the wall-clock time in that zone (the Spark
    session runs in UTC)."""
    def swap(node):
        if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2:
            zone, ts = node.expressions
            return _func("FROM_UTC_TIMESTAMP", ts.copy(), zone.copy())
        if isinstance(node, exp.AtTimeZone):
            return _func("FROM_UTC_TIMESTAMP", node.this.copy(), node.args["zone"].copy())
        return node
    return tree.transform(swap)


def plain_cte(tree: exp.Expression, sql: str) -> exp.Expression:
    """WITH x AS [NOT] MATERIALIZED (...) -> WITH x AS (...): a DuckDB planning hint Spark's grammar lacks (Spark
    plans each CTE itself)."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


TRANSFORMS: tuple[Callable[[exp.Expression, str], exp.Expression], ...] = (
    plain_cte, list_bool_aggregates, list_len_is_size, json_wildcard_field_list, json_extract_list, nested_to_json,
    months_interval, ordered_list_aggregate, array_overlap, timezone_of_instant,
)


def parse(sql: str) -> list[exp.Expression]:
    """The statements of a DuckDB SQL text (several may be separated by semicolons)."""
    return [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]


def to_spark(tree: exp.Expression, sql: str, params=None) -> exp.Expression:
    """One parsed DuckDB statement with its parameters bound and every transform applied (still a tree)."""
    tree = bind(tree, params)
    for transform in TRANSFORMS:
        tree = transform(tree, sql)
    return tree


def spark_sql(tree: exp.Expression) -> str:
    return tree.sql(dialect="spark")
