"""The rule files as data: every contract's "default when blank" is honoured by the rules, and the rules files
carry their legal basis."""

from __future__ import annotations

import re

import pytest

from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.lists import load_rules
from bs_credit_pipeline.lists.rules import RULES_DIR, RulesError

RULES = load_rules()
DISPLAY = RULES["display_periods"]

# Every contract column whose description says what applies when it is left blank (不填时), and where that default
# lives. An explicit value must then win over the default, never be capped by it.
BLANK_DEFAULTS = {
    ("admin_penalty", "severity"): "display_periods.category_tiers",
    ("admin_penalty", "publicity_end_date"): "display_periods.kinds.admin_penalty",
    ("admin_penalty", "domain"): "departments.default_domains",
    ("admin_licence", "domain"): "departments.default_domains",
    ("dishonest_debtor", "term_end"): "display_periods.kinds.dishonest_debtor",
    ("dishonest_debtor", "domain"): "kinds.dishonest_debtor.default_domain",
    ("good_record", "valid_until"): "display_periods.kinds.good_record",
    ("good_record", "domain"): "departments.default_domains",
    ("gov_integrity_record", "end_date"): "display_periods.kinds.gov_integrity_record",
    ("serious_dishonesty", "term_end"): "display_periods.kinds.serious_dishonesty",
    ("serious_dishonesty", "domain"): "departments.default_domains",
}


def test_every_default_when_blank_is_listed():
    registry = Registry.load()
    found = {(kind, c.name) for kind, contract in registry.contracts.items() for c in contract.columns
             if "不填时" in (c.description or "")}
    assert found == set(BLANK_DEFAULTS)


@pytest.mark.parametrize("kind, column", [k for k, v in BLANK_DEFAULTS.items() if v.startswith("display_periods.kinds")])
def test_an_explicit_end_replaces_the_default_term(kind, column):
    registry = Registry.load()
    spec = DISPLAY["kinds"][kind]
    contract = registry.contracts[kind]
    if contract.promote.get("end_date") == column:  # the promoted end date: validity, not a cap of the default
        assert spec["end_date_role"] in ("validity", "within_max")
        if spec["end_date_role"] == "within_max":  # only the legal maximum caps it (penalties)
            assert kind in DISPLAY["penalty_kinds"]
    else:  # a term end in the payload: replaces the default term
        assert spec["term_end_field"] == column


def test_domain_defaults_come_from_the_registry():
    registry = Registry.load()
    assert registry.contracts["dishonest_debtor"].default_domain == "司法诉讼"
    for (kind, column), where in BLANK_DEFAULTS.items():
        if where == "departments.default_domains":
            assert any(d.default_domains.get(kind) for d in registry.departments.values()), kind


def test_every_penalty_rule_names_its_source_and_dates():
    sources = DISPLAY["sources"]
    for rule in DISPLAY["penalty_rules"]:
        src = sources[rule["source"]]
        assert src["document"] and src["effective_from"]
        assert "article" in rule or rule.get("setting") is True
    assert next(r for r in DISPLAY["penalty_rules"] if r["id"] == "ndrc-2019-527")["effective_from"].isoformat() \
        == "2019-07-01"


def test_settings_say_so():
    text = (RULES_DIR / "display_periods.yaml").read_text(encoding="utf-8")
    # the fine thresholds and the transition rule are documented settings
    assert re.search(r"setting: until they publish theirs", text)
    assert re.search(r"transition: decision_date", text)
    assert DISPLAY["kinds"]["dishonest_debtor"]["repairable"] is False


def test_an_unimplemented_transition_rule_is_refused(tmp_path):
    import shutil

    import yaml

    for p in RULES_DIR.glob("*.yaml"):
        shutil.copy(p, tmp_path)
    data = yaml.safe_load((tmp_path / "display_periods.yaml").read_text(encoding="utf-8"))
    data["transition"] = "as_of"
    (tmp_path / "display_periods.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match="transition"):
        load_rules(tmp_path)


def test_repair_rules_name_every_outcome_word():
    registry = Registry.load()
    repairs = RULES["repairs"]
    assert set(repairs["repair_outcomes"]) == set(registry.contracts["credit_repair"].column("outcome").values)
    assert set(repairs["objection_outcomes"]) == set(registry.contracts["objection"].column("outcome").values)
    assert {p["id"] for p in repairs["preconditions"]} == {"min-period", "obligation", "commitment",
                                                            "training-and-report"}
