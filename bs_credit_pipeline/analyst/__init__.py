"""The analyst marts of the snapshot (schema `analyst` of analytics.duckdb) and the credit office's monthly report.

marts: typed per-kind views generated from the contracts, lookup tables, list, history, quality and timeliness
views. dictionary: Chinese labels as COMMENTs and analyst.data_dictionary. report: `bs-credit report`.
The labels, units, status names and subject classes are data: data_contracts/analyst.yaml (catalog).
"""
