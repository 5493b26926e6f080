"""The trial dataset as CDISC ODM 1.3.2: schema-valid, self-consistent, and read back unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from tests.interop.blinded import blinded_of
from tests.interop.validators import ODM_SCHEMAS, odm_valid

from diarytrial.cli import main
from diarytrial.dataset import TrialDataset, dataset_sha256, write_dataset
from diarytrial.interop.odm import NS, OdmReadError, read_odm, write_odm
from diarytrial.protocol import load_example, parse_protocol
from diarytrial.simulate import simulate_trial

CREATED = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ODM_NS = f"{{{NS}}}"


def _sha256(dataset: TrialDataset, folder: Path) -> str:
    write_dataset(dataset, folder)
    return dataset_sha256(folder)


def _round_trip(dataset: TrialDataset, tmp_path: Path) -> tuple[str, str]:
    [path] = write_odm(dataset, tmp_path / "odm", created_at=CREATED)
    return _sha256(dataset, tmp_path / "before"), _sha256(read_odm(path), tmp_path / "after")


@pytest.fixture(scope="module")
def odm_file(dataset: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    [path] = write_odm(dataset, tmp_path_factory.mktemp("odm") / "out", created_at=CREATED)
    return path


@pytest.fixture(scope="module")
def tree(odm_file: Path) -> etree._Element:
    return etree.parse(str(odm_file)).getroot()


@pytest.mark.parametrize("schema", sorted(ODM_SCHEMAS))
def test_the_file_is_valid_against_the_odm_schema(odm_file: Path, schema: str) -> None:
    assert odm_valid(odm_file, schema)[:3] == []


def test_every_reference_resolves(tree: etree._Element) -> None:
    defined = {
        tag: {e.get("OID") for e in tree.iter(f"{ODM_NS}{tag}")}
        for tag in ("StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList", "User")
    }
    defined["Location"] = {e.get("OID") for e in tree.iter(f"{ODM_NS}Location")}
    references = {
        ("StudyEventRef", "StudyEventOID"): "StudyEventDef",
        ("StudyEventData", "StudyEventOID"): "StudyEventDef",
        ("FormRef", "FormOID"): "FormDef",
        ("FormData", "FormOID"): "FormDef",
        ("ItemGroupRef", "ItemGroupOID"): "ItemGroupDef",
        ("ItemGroupData", "ItemGroupOID"): "ItemGroupDef",
        ("ItemRef", "ItemOID"): "ItemDef",
        ("ItemData", "ItemOID"): "ItemDef",
        ("CodeListRef", "CodeListOID"): "CodeList",
        ("FlagValue", "CodeListOID"): "CodeList",
        ("UserRef", "UserOID"): "User",
        ("LocationRef", "LocationOID"): "Location",
        ("SiteRef", "LocationOID"): "Location",
    }
    for (tag, attribute), kind in references.items():
        used = {e.get(attribute) for e in tree.iter(f"{ODM_NS}{tag}")}
        assert used, tag
        assert used <= defined[kind], (tag, used - defined[kind])
    # Each ItemData of a group is one of the group's ItemRefs.
    refs = {
        g.get("OID"): {r.get("ItemOID") for r in g.iter(f"{ODM_NS}ItemRef")}
        for g in tree.iter(f"{ODM_NS}ItemGroupDef")
    }
    for group in tree.iter(f"{ODM_NS}ItemGroupData"):
        for item in group.iter(f"{ODM_NS}ItemData"):
            assert item.get("ItemOID") in refs[group.get("ItemGroupOID")]


def test_every_coded_value_is_in_its_code_list_and_every_answer_in_its_range(
    tree: etree._Element,
) -> None:
    codes = {c.get("OID"): {i.get("CodedValue") for i in c} for c in tree.iter(f"{ODM_NS}CodeList")}
    item_lists = {
        d.get("OID"): d.find(f"{ODM_NS}CodeListRef").get("CodeListOID")  # type: ignore[union-attr]
        for d in tree.iter(f"{ODM_NS}ItemDef")
        if d.find(f"{ODM_NS}CodeListRef") is not None
    }
    ranges = {
        d.get("OID"): {
            r.get("Comparator"): float(r.findtext(f"{ODM_NS}CheckValue") or "nan")
            for r in d.iter(f"{ODM_NS}RangeCheck")
        }
        for d in tree.iter(f"{ODM_NS}ItemDef")
        if d.find(f"{ODM_NS}RangeCheck") is not None
    }
    assert set(ranges) == {f"IT.DIARY.{i}" for i in ("pain", "fatigue", "sleep", "mood")} | {
        "IT.DIARY.activity",
        "IT.DIARY.satisfaction",
    }
    checked: Counter[str] = Counter()
    for item in tree.iter(f"{ODM_NS}ItemData"):
        oid = item.get("ItemOID")
        if oid in item_lists:
            assert item.get("Value") in codes[item_lists[oid]], (oid, item.get("Value"))
            checked[str(item_lists[oid])] += 1
        if oid in ranges:
            assert ranges[oid]["GE"] <= float(item.get("Value", "nan")) <= ranges[oid]["LE"]
            checked["range"] += 1
    for flag in tree.iter(f"{ODM_NS}FlagValue"):
        assert flag.text in codes[flag.get("CodeListOID")]
    assert {"CL.PGIC", "CL.SIDE_EFFECT", "CL.DOSE_LEVEL", "CL.PERIODS.CONDITION"} <= set(checked)
    assert len(codes["CL.PGIC"]) == 7


def test_the_counts_match_the_dataset(tree: etree._Element, dataset: TrialDataset) -> None:
    groups = Counter(g.get("ItemGroupOID") for g in tree.iter(f"{ODM_NS}ItemGroupData"))
    assert len(list(tree.iter(f"{ODM_NS}SubjectData"))) == len(dataset.participants)
    diary = [
        i for i in tree.iter(f"{ODM_NS}ItemData") if i.get("ItemOID", "").startswith("IT.DIARY.")
    ]
    assert len(diary) == len(dataset.diary)
    assert sum(1 for i in diary if i.find(f"{ODM_NS}AuditRecord") is not None) == len(dataset.diary)
    late = sum(1 for i in diary if i.find(f"{ODM_NS}Annotation") is not None)
    assert late == int(dataset.diary["late"].sum())
    nights = {
        (s.get("SubjectKey"), e.get("StudyEventRepeatKey"))
        for s in tree.iter(f"{ODM_NS}SubjectData")
        for e in s.iter(f"{ODM_NS}StudyEventData")
        if e.get("StudyEventOID") == "SE.NIGHT"
    }
    expected = set(
        zip(
            dataset.diary["participant_id"].astype(str),
            dataset.diary["diary_date"].dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    ) | set(
        zip(
            dataset.side_effects["participant_id"].astype(str),
            dataset.side_effects["diary_date"].dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    )
    assert nights == expected
    assert groups["IG.AE"] == len(dataset.adverse_events) > 0
    assert groups["IG.SIDE_EFFECT"] == len(dataset.side_effects) > 0
    assert groups["IG.DOSE"] == len(dataset.doses) > 0
    assert groups["IG.PGIC"] == len(dataset.pgic) > 0
    assert groups["IG.BLINDING"] == len(dataset.blinding) > 0
    assert groups["IG.PHASE"] == len(dataset.periods)


def test_the_round_trip_gives_the_same_dataset(dataset: TrialDataset, tmp_path: Path) -> None:
    before, after = _round_trip(dataset, tmp_path)
    assert after == before


def test_the_round_trip_keeps_rows_in_another_order(dataset: TrialDataset, tmp_path: Path) -> None:
    shuffled = dataclasses.replace(
        dataset,
        diary=dataset.diary.iloc[::-1].reset_index(drop=True),
        periods=dataset.periods.sort_values(["phase", "participant_id"]).reset_index(drop=True),
    )
    before, after = _round_trip(shuffled, tmp_path)
    assert after == before


def test_line_breaks_quotes_and_spaces_survive_the_round_trip(
    dataset: TrialDataset, tmp_path: Path
) -> None:
    events = dataset.adverse_events.copy()
    events.loc[0, "term"] = ' Head, "ache"\r\nat night '
    odd = dataclasses.replace(
        dataset,
        protocol=parse_protocol(dataset.protocol.text.replace("\n", "\r\n")),
        adverse_events=events,
        provenance={"seed": 11, "note": "caf\u00e9 <&>", "nested": {"b": 1.5, "a": [None, True]}},
    )
    before, after = _round_trip(odd, tmp_path)
    assert after == before


def test_a_blinded_dataset_round_trips_and_tells_no_allocation(
    dataset: TrialDataset, tmp_path: Path
) -> None:
    blinded = blinded_of(dataset)
    before, after = _round_trip(blinded, tmp_path)
    assert after == before
    tree = etree.parse(str(tmp_path / "odm" / "odm.xml")).getroot()
    values = {
        (i.get("ItemOID"), i.get("Value"))
        for i in tree.find(f"{ODM_NS}ClinicalData").iter(f"{ODM_NS}ItemData")  # type: ignore[union-attr]
    }
    assert not {v for o, v in values if o == "IT.PERIODS.ARM"}
    assert {v for o, v in values if o == "IT.PERIODS.CONDITION"} == {"baseline", "blinded"}
    assert not {v for o, v in values if o in {"IT.PGIC.PERIOD", "IT.BLINDING.PERIOD"}}
    assert {v for o, v in values if o == "IT.PARTICIPANTS.SEQUENCE"} == {
        f"S{k}" for k in range(1, 9)
    }
    conditions = {
        e.get("CodedValue")
        for c in tree.iter(f"{ODM_NS}CodeList")
        if c.get("OID") == "CL.PERIODS.CONDITION"
        for e in c
    }
    assert conditions == {"baseline", "washout", "blinded"}
    assert not [c for c in tree.iter(f"{ODM_NS}CodeList") if c.get("OID") == "CL.ARM"]
    # The unblinded file does tell them.
    unblinded = etree.parse(str(write_odm(dataset, tmp_path / "u", created_at=CREATED)[0]))
    assert "ldn-placebo" in {i.get("Value") for i in unblinded.iter(f"{ODM_NS}ItemData")}


def test_the_n_of_1_example_round_trips(tmp_path: Path) -> None:
    trial = simulate_trial(load_example("nof1-ldn"), participants=1, seed=3)
    before, after = _round_trip(trial, tmp_path)
    assert after == before


def test_a_row_of_an_unknown_participant_is_refused(dataset: TrialDataset, tmp_path: Path) -> None:
    doses = dataset.doses.copy()
    doses.loc[0, "participant_id"] = "P-NONE"
    with pytest.raises(ValueError, match=r"doses.csv row 2: unknown participant 'P-NONE'"):
        write_odm(dataclasses.replace(dataset, doses=doses), tmp_path, created_at=CREATED)


def _odm_text(odm_file: Path) -> str:
    return odm_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("diary,value\nP-1,4\n", "not valid XML"),
        ("<?xml version='1.0'?><Protocol/>", "its root element is Protocol, not ODM"),
        ("<ODM xmlns='urn:other'/>", "in the namespace urn:other"),
        ("<ODM xmlns='http://www.cdisc.org/ns/odm/v1.3'/>", "missing element Study"),
    ],
)
def test_a_file_that_is_not_our_odm_is_refused_plainly(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "in.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OdmReadError, match=message) as caught:
        read_odm(path)
    assert str(caught.value).startswith(str(path))


def test_a_cut_short_or_incomplete_file_is_refused_plainly(odm_file: Path, tmp_path: Path) -> None:
    text = _odm_text(odm_file)
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(OdmReadError, match=r"not valid XML .*cut short"):
        read_odm(cut)
    no_protocol = tmp_path / "no-protocol.xml"
    tree = etree.parse(str(odm_file))
    protocol = tree.find(f".//{ODM_NS}Protocol")
    assert protocol is not None
    protocol.getparent().remove(protocol)  # type: ignore[union-attr]
    tree.write(str(no_protocol))
    with pytest.raises(OdmReadError, match=r"\(MetaDataVersion/Protocol\): missing element"):
        read_odm(no_protocol)
    bad_value = tmp_path / "bad-value.xml"
    bad_value.write_text(
        text.replace(
            'ItemOID="IT.PARTICIPANTS.AGE" Value="', 'ItemOID="IT.PARTICIPANTS.AGE" Value="x'
        ),
        encoding="utf-8",
    )
    with pytest.raises(OdmReadError, match=r"SubjectData P-.*is not a valid integer"):
        read_odm(bad_value)
    with pytest.raises(OdmReadError, match="cannot be read"):
        read_odm(tmp_path / "missing.xml")


def test_convert_then_import_gives_the_same_dataset_from_the_command_line(
    dataset: TrialDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_dataset(dataset, tmp_path / "trial")

    converted = main(["convert", str(tmp_path / "trial"), "--to", "odm", "--out", str(tmp_path)])
    imported = main(["import", "odm", str(tmp_path / "odm.xml"), "--out", str(tmp_path / "back")])

    assert (converted, imported) == (0, 0), capsys.readouterr().err
    sha256 = dataset_sha256(tmp_path / "trial")
    assert dataset_sha256(tmp_path / "back") == sha256
    assert f"(sha256 {sha256})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "odm.xml"),
        (b"\xff\xfe not xml", "odm.xml"),
        (b"<ODM xmlns='urn:other'/>", "ODM"),
    ],
)
def test_import_of_a_file_that_is_not_our_odm_exits_2_plainly(
    content: bytes, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "odm.xml").write_bytes(content)

    code = main(["import", "odm", str(tmp_path / "odm.xml"), "--out", str(tmp_path / "back")])

    err = capsys.readouterr().err
    assert code == 2
    assert said in err
    assert "Traceback" not in err
    assert not (tmp_path / "back").exists()


def test_import_into_a_file_exits_2(odm_file: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")

    assert main(["import", "odm", str(odm_file), "--out", str(tmp_path / "taken")]) == 2


# --- signatures -------------------------------------------------------------------------------


def _signature(
    number: int, act: str, record: str, participant: str, signer: str, name: str, **rest: str
) -> dict[str, object]:
    """A signature as a live export's provenance gives it (``CheckedSignature.as_metadata``)."""
    return {
        "id": number,
        "act": act,
        "record": record,
        "participant": participant,
        "signer": signer,
        "printed_name": name,
        "meaning": rest.get("meaning", "Approved"),
        "signed_at": rest["signed_at"],
        "content_sha256": rest.get("sha256", f"{number:x}" * 64)[:64],
        "state": rest.get("state", "valid"),
    }


@pytest.fixture(scope="module")
def signed(dataset: TrialDataset) -> TrialDataset:
    """The simulated dataset as a live export would give it, with its signatures: its events
    numbered as the export numbers them (``AE-`` and six digits), a casebook signed twice (the
    second time by a user with no full name), an event signed off, an event signed off then
    removed, and the database lock."""
    events = dataset.adverse_events.copy()
    events["ae_id"] = [f"AE-{n:06d}" for n in range(11, 11 + len(events))]
    first = str(events.loc[0, "participant_id"])
    other = str(dataset.participants.loc[0, "participant_id"])
    assert first != other
    signatures = [
        _signature(
            3,
            "adverse_event",
            f"adverse event Headache of {first} (AE 11)",
            first,
            "igarcia",
            "Ines Garcia",
            meaning="Reviewed",
            signed_at="2026-02-10T17:04:11.402913+00:00",
        ),
        _signature(
            4,
            "casebook",
            f"casebook of {other}",
            other,
            "igarcia",
            "Ines Garcia",
            signed_at="2026-02-11T09:00:00+00:00",
            state="invalid",
        ),
        _signature(
            5,
            "adverse_event",
            f"adverse event Nausea of {first} (AE 99)",
            first,
            "igarcia",
            "Ines Garcia",
            signed_at="2026-02-12T08:30:00+00:00",
        ),
        _signature(
            6,
            "casebook",
            f"casebook of {other}",
            other,
            "dr-y",
            "dr-y",
            meaning="Responsible for",
            signed_at="2026-02-13T10:15:00+00:00",
        ),
        _signature(
            7,
            "database_lock",
            "database lock of ldn",
            "",
            "ada",
            "Ada Admin",
            signed_at="2026-02-14T12:00:00+00:00",
        ),
    ]
    provenance = {**dataset.provenance, "signatures": signatures}
    return dataclasses.replace(dataset, adverse_events=events, provenance=provenance)


@pytest.fixture(scope="module")
def signed_file(signed: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    [path] = write_odm(signed, tmp_path_factory.mktemp("signed") / "out", created_at=CREATED)
    return path


@pytest.mark.parametrize("schema", sorted(ODM_SCHEMAS))
def test_a_file_with_signatures_is_valid_against_the_odm_schema(
    signed_file: Path, schema: str
) -> None:
    assert odm_valid(signed_file, schema)[:3] == []


def test_the_sign_offs_are_odm_signatures_whose_references_resolve(
    signed: TrialDataset, signed_file: Path
) -> None:
    tree = etree.parse(str(signed_file)).getroot()
    admin = tree.find(f"{ODM_NS}AdminData")
    assert admin is not None
    users = {u.get("OID"): u for u in admin.iter(f"{ODM_NS}User")}
    locations = {loc.get("OID") for loc in admin.iter(f"{ODM_NS}Location")}
    definitions = {d.get("OID"): d for d in admin.iter(f"{ODM_NS}SignatureDef")}
    found = {}
    for signature in tree.iter(f"{ODM_NS}Signature"):
        owner = signature.getparent()
        assert owner is not None
        user = users[signature.find(f"{ODM_NS}UserRef").get("UserOID")]  # type: ignore[union-attr]
        location = signature.find(f"{ODM_NS}LocationRef").get("LocationOID")  # type: ignore[union-attr]
        definition = definitions[
            signature.find(f"{ODM_NS}SignatureRef").get("SignatureOID")  # type: ignore[union-attr]
        ]
        [annotation] = [
            a
            for a in owner.iter(f"{ODM_NS}Annotation")
            if (a.findtext(f"{ODM_NS}Comment") or "").startswith("diarytrial signature")
        ]
        assert location in locations
        assert definition.get("Methodology") == "Electronic"
        assert "21 CFR Part 11" in (definition.findtext(f"{ODM_NS}LegalReason") or "")
        found[signature.get("ID")] = (
            etree.QName(owner).localname,
            owner.get("SubjectKey") or owner.get("ItemGroupOID"),
            user.findtext(f"{ODM_NS}LoginName"),
            user.findtext(f"{ODM_NS}DisplayName"),
            user.findtext(f"{ODM_NS}FullName"),
            user.get("UserType"),
            location,
            definition.findtext(f"{ODM_NS}Meaning"),
            signature.findtext(f"{ODM_NS}DateTimeStamp"),
            annotation.findtext(f"{ODM_NS}Comment"),
            annotation.findtext(f"{ODM_NS}Flag/{ODM_NS}FlagValue"),
        )
    other = str(signed.participants.loc[0, "participant_id"])
    # The newest casebook sign-off and the sign-off of the event in the dataset; not the
    # older sign-off (a SubjectData holds one Signature), the removed event's or the lock's.
    assert found == {
        "SIG.6": (
            "SubjectData",
            other,
            "dr-y",
            "dr-y",
            None,
            "Investigator",
            f"LOC.{signed.participants.loc[0, 'site']}",
            "Responsible for",
            "2026-02-13T10:15:00+00:00",
            f"diarytrial signature SIG.6: content SHA-256 {'6' * 64}",
            "valid",
        ),
        "SIG.3": (
            "ItemGroupData",
            "IG.AE",
            "igarcia",
            "Ines Garcia",
            "Ines Garcia",
            "Investigator",
            f"LOC.{signed.participants.loc[0, 'site']}",
            "Reviewed",
            "2026-02-10T17:04:11.402913+00:00",
            f"diarytrial signature SIG.3: content SHA-256 {'3' * 64}",
            "valid",
        ),
    }
    [event] = [
        g for g in tree.iter(f"{ODM_NS}ItemGroupData") if g.find(f"{ODM_NS}Signature") is not None
    ]
    ae_ids = [i.get("Value") for i in event if i.get("ItemOID") == "IT.ADVERSE_EVENTS.AE_ID"]
    assert ae_ids == ["AE-000011"]
    # Staff users are apart from the participants' users; a meaning is one SignatureDef.
    assert {oid for oid in users if not str(oid).startswith("USR.")} == {
        "STAFF.igarcia",
        "STAFF.dr-y",
    }
    assert sorted(str(oid) for oid in definitions) == ["SD.RESPONSIBLE_FOR", "SD.REVIEWED"]


def test_a_dataset_with_signatures_round_trips(signed: TrialDataset, tmp_path: Path) -> None:
    before, after = _round_trip(signed, tmp_path)
    assert after == before
    assert read_odm(tmp_path / "odm" / "odm.xml").provenance == signed.provenance


def test_a_file_without_placed_signatures_has_no_signature_parts(tree: etree._Element) -> None:
    for tag in ("Signature", "SignatureDef"):
        assert not list(tree.iter(f"{ODM_NS}{tag}"))
    assert "CL.SIGNATURE_STATE" not in {c.get("OID") for c in tree.iter(f"{ODM_NS}CodeList")}


def _tampered(signed_file: Path, tmp_path: Path, change: str) -> Path:
    tree = etree.parse(str(signed_file))
    root = tree.getroot()
    [casebook] = [s for s in root.iter(f"{ODM_NS}Signature") if s.get("ID") == "SIG.6"]
    if change == "user":
        casebook.find(f"{ODM_NS}UserRef").set("UserOID", "STAFF.igarcia")  # type: ignore[union-attr]
    elif change == "participant user":
        key = casebook.getparent().get("SubjectKey")  # type: ignore[union-attr]
        casebook.find(f"{ODM_NS}UserRef").set("UserOID", f"USR.{key}")  # type: ignore[union-attr]
    elif change == "date":
        casebook.find(f"{ODM_NS}DateTimeStamp").text = "2026-02-13T10:16:00+00:00"  # type: ignore[union-attr]
    elif change == "meaning":
        casebook.find(f"{ODM_NS}SignatureRef").set("SignatureOID", "SD.REVIEWED")  # type: ignore[union-attr]
    elif change == "hash":
        for comment in root.iter(f"{ODM_NS}Comment"):
            if (comment.text or "").startswith("diarytrial signature SIG.6"):
                comment.text = comment.text.replace("6666", "6667", 1)  # type: ignore[union-attr]
    elif change == "removed":
        casebook.getparent().remove(casebook)  # type: ignore[union-attr]
    elif change == "moved":
        owner = casebook.getparent()
        assert owner is not None
        owner.remove(casebook)
        event = owner.find(f"{ODM_NS}StudyEventData")
        assert event is not None
        event.insert(0, casebook)
    path = tmp_path / f"{change}.xml"
    tree.write(str(path))
    return path


@pytest.mark.parametrize(
    ("change", "element", "said"),
    [
        ("user", r"SubjectData P-\w+/Signature/UserRef", "signed by 'igarcia'"),
        ("participant user", r"SubjectData P-\w+/Signature/UserRef", "signed by None"),
        ("date", r"SubjectData P-\w+/Signature/DateTimeStamp", "signed at '2026-02-13T10:16"),
        ("meaning", r"SubjectData P-\w+/Signature/SignatureRef", "meaning 'Reviewed'"),
        ("hash", r"SubjectData P-\w+/Annotation", "binds the content SHA-256 6666"),
        ("removed", r"SubjectData P-\w+", "no Signature, but the provenance's signature 6"),
        ("moved", r"SubjectData P-\w+", "no Signature"),
    ],
)
def test_a_signature_that_disagrees_with_the_provenance_is_refused(
    signed_file: Path, tmp_path: Path, change: str, element: str, said: str
) -> None:
    path = _tampered(signed_file, tmp_path, change)
    with pytest.raises(OdmReadError, match=rf"\({element}\): .*{said}") as caught:
        read_odm(path)
    assert caught.value.element is not None


def test_a_signature_out_of_its_place_is_refused(signed_file: Path, tmp_path: Path) -> None:
    tree = etree.parse(str(signed_file))
    root = tree.getroot()
    [casebook] = [s for s in root.iter(f"{ODM_NS}Signature") if s.get("ID") == "SIG.6"]
    copy = etree.fromstring(etree.tostring(casebook))
    copy.set("ID", "SIG.60")
    event = casebook.getparent().find(f"{ODM_NS}StudyEventData")  # type: ignore[union-attr]
    assert event is not None
    event.insert(0, copy)
    tree.write(str(tmp_path / "extra.xml"))
    with pytest.raises(OdmReadError, match=r"\(StudyEventData/Signature\): a Signature \(SIG.60\)"):
        read_odm(tmp_path / "extra.xml")


def test_signatures_not_shaped_as_an_export_writes_them_stay_in_the_provenance(
    signed: TrialDataset, tmp_path: Path
) -> None:
    [good, *_] = signed.provenance["signatures"]
    odd = [
        "a note",
        {**good, "id": "3"},
        {**good, "signed_at": "10 Feb 2026"},
        {**good, "printed_name": "Ines\nGarcia"},
        {**good, "record": "adverse event Headache"},
        {key: value for key, value in good.items() if key != "state"},
    ]
    strange = dataclasses.replace(signed, provenance={**signed.provenance, "signatures": odd})
    before, after = _round_trip(strange, tmp_path)
    assert after == before
    assert not list(etree.parse(str(tmp_path / "odm" / "odm.xml")).iter(f"{ODM_NS}Signature"))
