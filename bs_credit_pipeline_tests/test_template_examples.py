"""The example row of every template, for every record kind and domain, passes `bs-credit check`: the row shown
in 填报说明, typed into the template's own data sheet and saved by openpyxl, is accepted."""

from __future__ import annotations

import openpyxl
import pytest

from bs_credit_pipeline.cli import main
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.templates import INSTRUCTIONS_SHEET, example_row, write_template

REGISTRY = Registry.load()
CASES = [pytest.param(kind, domain, id=f"{kind}-{domain or 'base'}")
         for kind, contract in REGISTRY.contracts.items() for domain in (None, *contract.domains)]


def _department(kind: str, domain: str | None) -> str:
    return next(d.code for d in REGISTRY.departments.values()
                if kind in d.kinds and (domain is None or domain in d.domains))


@pytest.mark.parametrize("kind,domain", CASES)
def test_the_example_row_of_every_template_passes_check(tmp_path, kind, domain, capsys):
    contract = REGISTRY.contracts[kind]
    variant = contract.for_domain(domain)
    folder = tmp_path / "inbox" / _department(kind, domain) / "2026-10"
    folder.mkdir(parents=True)
    path = write_template(contract, folder / f"{contract.title}.xlsx", domain=domain)
    wb = openpyxl.load_workbook(path)
    shown = {r[0].value: r[1].value for r in wb[INSTRUCTIONS_SHEET].iter_rows() if r[0].value and r[1].value}
    example = example_row(variant, domain)
    data = wb.worksheets[0]
    for col, column in enumerate(variant.columns, start=1):
        if example[column.name]:
            assert shown[column.header] == example[column.name]  # the instructions show this very row
            data.cell(row=2, column=col, value=example[column.name]).number_format = "@"
    wb.save(path)
    assert main(["check", str(path)]) == 0, capsys.readouterr().out
    assert "全部通过" in capsys.readouterr().out
