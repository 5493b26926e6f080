"""The trial dataset: a folder of CSV files plus ``datapackage.json`` (Frictionless)."""

from diarytrial.dataset.integrity import (
    DATASET_FILES,
    DatasetFiles,
    FileDigest,
    FileMismatch,
    dataset_sha256,
)
from diarytrial.dataset.io import read_dataset, write_dataset
from diarytrial.dataset.model import TrialDataset, empty_table
from diarytrial.dataset.tables import TABLES, TABLES_BY_NAME, Column, Table
from diarytrial.dataset.validate import DatasetError, DatasetIssue, validate_dataset

__all__ = [
    "DATASET_FILES",
    "TABLES",
    "TABLES_BY_NAME",
    "Column",
    "DatasetError",
    "DatasetFiles",
    "DatasetIssue",
    "FileDigest",
    "FileMismatch",
    "Table",
    "TrialDataset",
    "dataset_sha256",
    "empty_table",
    "read_dataset",
    "validate_dataset",
    "write_dataset",
]
