"""Load the rule files of data_contracts/rules/ (display periods, lists, measures, masking, ...)."""

from __future__ import annotations

from pathlib import Path

from .. import yamlfile

RULES_DIR = Path(__file__).resolve().parents[2] / "data_contracts" / "rules"
REQUIRED = {
    "display_periods": ("penalty_rules", "kinds", "category_tiers", "severity_tiers", "tier_rank", "status_reasons"),
    "lists": ("black_list", "watch_list", "red_list", "green_channel"),
    "measures": ("measures",),
    "masking": ("name", "id"),
    "repairs": ("repair_outcomes", "preconditions", "deciders", "objection_outcomes", "repair_statuses",
                "repair_reasons", "objection_reasons"),
}
# Texts every case of the decision SQL needs (rule file, section, keys).
TEXTS = (
    ("display_periods", "status_reasons", ("future", "deleted", "repaired", "not_displayed", "removed",
                                           "validity_passed", "end_date_passed", "expired", "objection_pending",
                                           "objection_corrected", "active_no_end", "active")),
    ("repairs", "repair_reasons", ("unmatched", "special_serious", "not_repairable", "wrong_decider",
                                   "decided_refuse", "unmet", "pending", "granted")),
    ("repairs", "repair_statuses", ("granted", "refused", "flagged", "unmatched", "pending")),
    ("lists", "texts", ("removal_reasons", "added", "record_lost", "disqualified", "red_basis_good_record",
                        "red_basis_volunteer", "green_basis_red_list", "green_basis_clean", "measure_roles")),
    ("lists", "explain", ("titles", "why_not")),
)


class RulesError(ValueError):
    """A rule file is missing or malformed."""


def load_rules(directory: str | Path | None = None) -> dict[str, dict]:
    """Every ``*.yaml`` of the rules directory, keyed by file stem; the list rule files are checked."""
    root = Path(directory) if directory else RULES_DIR
    rules = {p.stem: yamlfile.read(p) or {} for p in sorted(root.glob("*.yaml"))}
    for stem, keys in REQUIRED.items():
        if stem not in rules:
            raise RulesError(f"missing rule file {stem}.yaml in {root}")
        missing = [k for k in keys if k not in rules[stem]]
        if missing:
            raise RulesError(f"{stem}.yaml lacks {', '.join(missing)}")
    for stem, section, keys in TEXTS:
        missing = [k for k in keys if k not in (rules[stem].get(section) or {})]
        if missing:
            raise RulesError(f"{stem}.yaml {section} lacks {', '.join(missing)}")
    words = rules["repairs"]["objection_outcomes"]
    missing = sorted(set(words.values()) - set(rules["repairs"]["objection_reasons"]))
    if missing:
        raise RulesError(f"repairs.yaml objection_reasons lacks {', '.join(missing)}")
    _check_penalty_rules(rules["display_periods"])
    if rules["display_periods"].get("transition", "decision_date") != "decision_date":
        raise RulesError("display_periods.yaml transition: only 'decision_date' is implemented")
    return rules


def _check_penalty_rules(display: dict) -> None:
    """Penalty rules must not overlap and must name every tier of tier_rank."""
    spans = sorted((r["effective_from"], r["effective_to"], r["id"]) for r in display["penalty_rules"])
    for (_, end, a), (start, _, b) in zip(spans, spans[1:]):
        if start <= end:
            raise RulesError(f"display rules {a} and {b} overlap")
    for rule in display["penalty_rules"]:
        absent = set(display["tier_rank"]) - set(rule["tiers"])
        if absent:
            raise RulesError(f"display rule {rule['id']} lacks tiers {sorted(absent)}")
