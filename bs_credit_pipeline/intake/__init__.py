"""Intake: one submitted file → staged valid rows, every rejected row with its reasons, a manifest and a report.

The modules follow a file through intake:

- `read`: sniff the format and read every visible sheet into string tables with Excel row numbers;
- `header`: find the header row(s), map headers to contract columns, detect the record kind, skip footers;
- `schema`: a contract compiled to pandera schemas (polars backend); normalising and validating one frame;
- `validate`: every data row of the matching sheets, against its domain's variant of the contract;
- `subjects`: who each record is about (subject type, canonical id, organisation link key);
- `stage`: natural keys, record ids, duplicates in the file, the staged Parquet and the rejected rows;
- `problems`: each problem as a row of the rejection store with its Chinese message;
- `report`: the annotated copy of the workbook sent back to the department;
- `driver`: `Intake`, which runs these in order for one file and writes the manifest.

`Intake` and friends are imported lazily, so the Excel reading child (`python -m bs_credit_pipeline.intake.read`)
starts without loading pandas, pandera or DuckDB.
"""

_DRIVER = ("Intake", "IntakeResult", "department_key", "file_sha256")


def __getattr__(name: str):
    if name in _DRIVER:
        from . import driver

        return getattr(driver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
