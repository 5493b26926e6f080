"""Every format the trial dataset converts to, in one place: the command line
(``diarytrial convert``) and the statistician's export page both take their list from here.

Each writer takes a `TrialDataset` (blinded or not: it writes what the dataset holds and
nothing more) and a folder, and returns the files it wrote there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from diarytrial.dataset import TrialDataset
from diarytrial.interop.datasetjson import write_dataset_json
from diarytrial.interop.fhir import write_fhir
from diarytrial.interop.odm import write_odm
from diarytrial.interop.statfiles import write_stat_files

Writer = Callable[[TrialDataset, Path], list[Path]]


@dataclass(frozen=True)
class Format:
    """One format: its name on the command line, its name for people, what it holds."""

    key: str
    name: str
    holds: str
    write: Writer


FORMATS: dict[str, Format] = {
    fmt.key: fmt
    for fmt in (
        Format(
            "odm",
            "CDISC ODM 1.3.2 (XML)",
            "the whole dataset: metadata, clinical data with audit records, the protocol; "
            "diarytrial import odm reads it back",
            lambda dataset, folder: write_odm(dataset, folder),
        ),
        Format(
            "dataset-json",
            "CDISC Dataset-JSON v1.1 (SDTM domains) with Define-XML 2.1",
            "the SDTM-style domains DM, SE, SV, EX, QS, AE and DS, a file each, and define.xml",
            lambda dataset, folder: write_dataset_json(dataset, folder),
        ),
        Format(
            "xpt",
            "SAS transport (XPT version 5)",
            "the analysis-ready tables, a file each, with variable and value labels",
            lambda dataset, folder: write_stat_files(dataset, folder, "xpt"),
        ),
        Format(
            "sav",
            "SPSS",
            "the analysis-ready tables, a file each, with variable and value labels",
            lambda dataset, folder: write_stat_files(dataset, folder, "sav"),
        ),
        Format(
            "dta",
            "Stata (version 15)",
            "the analysis-ready tables, a file each, with variable and value labels",
            lambda dataset, folder: write_stat_files(dataset, folder, "dta"),
        ),
        Format(
            "fhir",
            "FHIR R4 (JSON)",
            "the diary as a Questionnaire and a Bundle of QuestionnaireResponses per participant",
            write_fhir,
        ),
    )
}
"""The formats by key, in the order they are offered."""


def convert(dataset: TrialDataset, key: str, folder: Path) -> list[Path]:
    """Write `dataset` as the format `key` into `folder`; the files written.

    Raises KeyError for an unknown key, OSError when the folder cannot be written, ValueError
    when the dataset cannot be expressed in the format.
    """
    return FORMATS[key].write(dataset, folder)
