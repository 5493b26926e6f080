"""The trial dataset: a folder of CSV files plus ``datapackage.json`` (Frictionless)."""

from diarytrial.dataset.io import dataset_sha256, read_dataset, write_dataset
from diarytrial.dataset.model import TrialDataset, empty_table
from diarytrial.dataset.tables import TABLES, TABLES_BY_NAME, Column, Table
from diarytrial.dataset.validate import DatasetError, DatasetIssue, validate_dataset

__all__ = [
    "TABLES",
    "TABLES_BY_NAME",
    "Column",
    "DatasetError",
    "DatasetIssue",
    "Table",
    "TrialDataset",
    "dataset_sha256",
    "empty_table",
    "read_dataset",
    "validate_dataset",
    "write_dataset",
]
