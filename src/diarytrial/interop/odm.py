"""The trial dataset as one CDISC ODM 1.3.2 XML file, and back.

Built and read with lxml's element API; the tests validate every file against the official ODM
1.3.2 schema that odmlib ships. What maps to what:

- **Study**: ``GlobalVariables`` (the protocol's study id and title) and one
  ``MetaDataVersion`` (its OID carries the protocol's SHA-256): ``Protocol`` holds the protocol
  file's exact text in its ``Description`` and refers to five kinds of study event:
  enrolment (the participant's fields), phase (repeating: one per planned phase, keyed by the
  phase number), night (repeating: one per diary date, keyed by the date, with the diary items
  and the side effects ticked), visit (repeating: keyed by the visit number, with the PGIC
  and the blinding question) and log (the dose levels and adverse events). Every column of
  every table is an ``ItemDef`` of the type of its column; each diary item is an ``ItemDef``
  with its question and two ``RangeCheck``s from its scale. Every column with a fixed list of
  values has a ``CodeList``: the schema's lists, the protocol's side effects, dose levels and
  arms (the arms only in an unblinded dataset) and the PGIC's seven points with their labels.
- **AdminData**: each site is a ``Location``; each participant a ``User`` (participants enter
  their own diary). The staff who signed a casebook or an adverse event are ``User``s too, and
  each meaning of their signatures is a ``SignatureDef``.
- **ClinicalData**: a ``SubjectData`` per participant (its ``SiteRef`` the site). A diary
  answer is an ``ItemData`` whose ``AuditRecord`` says who entered it (the participant), where
  (their site) and when the server received it (``submitted_at``); a late entry carries an
  ``Annotation`` with the flag ``late``. Rows of the other tables are ``ItemGroupData``.
- **Signatures**: a casebook's sign-off is the ``Signature`` of the participant's
  ``SubjectData``, an adverse event's that of the event's ``ItemGroupData`` (the newest one of
  each, as an ODM data element holds one); an ``Annotation`` beside it gives the SHA-256 of
  the content signed and the signature's state at the export. Database locks and unlocks
  belong to no ODM data level and have no ``Signature``.
- The dataset's provenance, as JSON, is the ODM element's ``Description``: it keeps every
  signature, so reading cross-checks each ``Signature`` against it.

Reading such a file gives the same dataset: written again it has the same SHA-256. Rows come
back grouped by participant (in the order of ``participants.csv``) and by event; a table whose
rows were in another order has that order recorded in a ``ClinicalData`` annotation.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from lxml import etree

from diarytrial.dataset import TrialDataset, validate_dataset
from diarytrial.dataset.csvio import iter_table_bytes
from diarytrial.dataset.tables import (
    BLINDED_CONDITION,
    CONDITIONS,
    TABLES,
    TABLES_BY_NAME,
    Column,
    Table,
)
from diarytrial.dataset.validate import DatasetError
from diarytrial.protocol import Protocol, ProtocolError, parse_protocol
from diarytrial.protocol.schema import PGIC_LABELS

NS = "http://www.cdisc.org/ns/odm/v1.3"
ODM_VERSION = "1.3.2"
ODM_FILE = "odm.xml"
SOURCE_SYSTEM = "diarytrial"
PROVENANCE_PREFIX = "diarytrial trial dataset; provenance: "
"""The ODM element's Description: this text, then the provenance as JSON."""
ROW_ORDER_PREFIX = "diarytrial row order of "
"""An annotation's comment that gives a table's row order: this, the table, ':' and numbers."""
LATE_FLAG = "late"
DIARY_FLAGS_OID = "CL.DIARY_FLAG"
DIARY_ITEM_PREFIX = "IT.DIARY."
_TRUE, _FALSE = "true", "false"
SIGNATURE_STATES_OID = "CL.SIGNATURE_STATE"
SIGNATURE_STATES = ("valid", "invalid", "unknown")
"""A signature's state at the export (docs/dataset.md): its Annotation's Flag."""
SIGNATURE_PREFIX = "diarytrial signature "
"""A signature's Annotation's comment: this, the Signature's ID, ': content SHA-256 ' and it."""
LEGAL_REASON = (
    "Electronic signature under 21 CFR Part 11 (11.50, 11.70, 11.200): the signer's password, "
    "and their authenticator code when they use two-step sign-in, checked at the signature; "
    "bound to the SHA-256 hash of the canonical content of the record signed"
)
"""Every SignatureDef's LegalReason: how diarytrial signs (docs/guide-staff.md)."""

_DATA_TYPES = {
    "string": "text",
    "integer": "integer",
    "number": "float",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}


class OdmReadError(ValueError):
    """A file that is not a trial dataset written as ODM by diarytrial; names the element."""

    def __init__(self, path: Path, message: str, element: str | None = None) -> None:
        where = f" ({element})" if element else ""
        super().__init__(f"{path}{where}: {message}")
        self.path = path
        self.element = element


@dataclass(frozen=True)
class _Event:
    oid: str
    name: str
    repeating: bool
    kind: str  # ODM EventType
    description: str
    key: Column | None
    """The column whose value is the StudyEventRepeatKey."""


@dataclass(frozen=True)
class _Layout:
    """Where the rows of one table go: which event, form and item group."""

    table: Table
    event: _Event
    form: str
    group: str
    repeating: bool
    """Several rows per form: each row's ItemGroupRepeatKey is its number in the form."""
    description: str

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns written as ItemData (not the participant, site or event key)."""
        skip = {"participant_id", *(("site",) if self.table.name == "participants" else ())}
        if self.event.key is not None:
            skip.add(self.event.key.name)
        return tuple(c for c in self.table.columns if c.name not in skip)


_PLACED_ACTS = ("casebook", "adverse_event")
"""The signed acts with a place in ODM's ClinicalData: a participant's casebook, an event."""
_AE_RECORD = re.compile(r"\(AE (\d+)\)\Z")
"""How a live export names a signed adverse event: ``adverse event <term> of <code> (AE 12)``."""
_AE_ID = "AE-{:06d}"
"""The event's ``ae_id`` in a live export's ``adverse_events.csv`` (``AE-000012``)."""
_SIGNER = re.compile(r"[\w.@+-]+\Z")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z", re.ASCII
)
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class _Signed:
    """A signature of the provenance that has a place in ClinicalData."""

    id: int
    act: str
    participant: str
    ae_id: str
    """The event's ``ae_id`` for an adverse event's sign-off; '' for a casebook's."""
    signer: str
    printed_name: str
    meaning: str
    signed_at: str
    content_sha256: str
    state: str

    @property
    def element_id(self) -> str:
        """The Signature's ``ID``: ``SIG.`` and the signature's id."""
        return f"SIG.{self.id}"

    @property
    def place(self) -> tuple[str, str]:
        """(participant, ae_id): the SubjectData (ae_id '') or the event's ItemGroupData."""
        return (self.participant, self.ae_id)

    @property
    def comment(self) -> str:
        """Its Annotation's comment."""
        return f"{SIGNATURE_PREFIX}{self.element_id}: content SHA-256 {self.content_sha256}"


def _signed(entry: object) -> _Signed | None:
    """`entry` of the provenance's signatures, when it is a placeable signature of a live export
    (a casebook or adverse event sign-off, every field as the export writes it)."""
    if not isinstance(entry, dict):
        return None
    fields = (
        "act",
        "record",
        "participant",
        "signer",
        "printed_name",
        "meaning",
        "signed_at",
        "content_sha256",
        "state",
    )
    text = {key: value for key in fields if isinstance(value := entry.get(key), str)}
    number = entry.get("id")
    if len(text) != len(fields):
        return None
    if (
        isinstance(number, bool)
        or not isinstance(number, int)
        or number < 0
        or text["act"] not in _PLACED_ACTS
        or text["participant"] == ""
        or not _SIGNER.match(text["signer"])
        or not all(
            text[key].isprintable() and text[key].strip() for key in ("printed_name", "meaning")
        )
        or not _DATETIME.match(text["signed_at"])
        or not _SHA256.match(text["content_sha256"])
        or text["state"] not in SIGNATURE_STATES
    ):
        return None
    ae_id = ""
    if text["act"] == "adverse_event":
        found = _AE_RECORD.search(text["record"])
        if found is None:
            return None
        ae_id = _AE_ID.format(int(found.group(1)))
    return _Signed(
        id=number,
        act=text["act"],
        participant=text["participant"],
        ae_id=ae_id,
        signer=text["signer"],
        printed_name=text["printed_name"],
        meaning=text["meaning"],
        signed_at=text["signed_at"],
        content_sha256=text["content_sha256"],
        state=text["state"],
    )


def placed_signatures(
    provenance: Mapping[str, Any], sites: Mapping[str, str], events: set[tuple[str, str]]
) -> dict[tuple[str, str], _Signed]:
    """The provenance's signatures that the ODM carries as ``Signature``s, by place.

    `sites` gives each participant's site, `events` the (participant, ae_id) of every adverse
    event. A casebook sign-off of a participant of the dataset goes to their SubjectData, an
    adverse event's to the event's ItemGroupData when the event is in the dataset; a place holds
    the newest (the last in the list, which is oldest first). Others stay in the provenance
    only: study-level acts, a removed event's, one not shaped as a live export writes it.
    """
    entries = provenance.get("signatures")
    if not isinstance(entries, list):
        return {}
    placed: dict[tuple[str, str], _Signed] = {}
    for entry in entries:
        signed = _signed(entry)
        if signed is None or sites.get(signed.participant, "") == "":
            continue
        if signed.ae_id and signed.place not in events:
            continue
        placed.pop(signed.place, None)
        placed[signed.place] = signed
    ids = Counter(s.id for s in placed.values())
    return {place: s for place, s in placed.items() if ids[s.id] == 1}


def _signers(placed: Iterable[_Signed]) -> dict[tuple[str, str], str]:
    """Each (signer, printed name)'s User OID: ``STAFF.<username>``, then ``#2`` ... when the
    same username signed under another name."""
    oids: dict[tuple[str, str], str] = {}
    names: Counter[str] = Counter()
    for signed in placed:
        key = (signed.signer, signed.printed_name)
        if key not in oids:
            names[signed.signer] += 1
            count = names[signed.signer]
            oids[key] = f"STAFF.{signed.signer}" + (f"#{count}" if count > 1 else "")
    return oids


def _meanings(placed: Iterable[_Signed]) -> dict[str, str]:
    """Each meaning's SignatureDef OID: ``SD.`` and the meaning in capitals (``SD.APPROVED``)."""
    oids: dict[str, str] = {}
    for signed in placed:
        if signed.meaning in oids:
            continue
        slug = re.sub(r"[^A-Za-z0-9]+", "_", signed.meaning).strip("_").upper()
        oid = f"SD.{slug}" if slug else "SD"
        if oid in oids.values():
            oid = f"{oid}.{len(oids) + 1}"
        oids[signed.meaning] = oid
    return oids


@dataclass(frozen=True)
class _Signing:
    """What writing the Signatures needs: the placed signatures and the OIDs they refer to."""

    placed: Mapping[tuple[str, str], _Signed]
    users: Mapping[tuple[str, str], str]
    meanings: Mapping[str, str]

    @classmethod
    def of(cls, placed: Mapping[tuple[str, str], _Signed]) -> _Signing:
        ordered = sorted(placed.values(), key=lambda s: (s.signed_at, s.id))
        return cls(placed, _signers(ordered), _meanings(ordered))


def _column(table: str, name: str) -> Column:
    return TABLES_BY_NAME[table].column(name)


_ENROLMENT = _Event(
    "SE.ENROLMENT", "Enrolment", False, "Scheduled", "The participant's record.", None
)
_PHASE = _Event(
    "SE.PHASE",
    "Phase",
    True,
    "Scheduled",
    "A planned phase of the participant's schedule; its repeat key is the phase number.",
    _column("periods", "phase"),
)
_NIGHT = _Event(
    "SE.NIGHT",
    "Night",
    True,
    "Scheduled",
    "A diary night; its repeat key is the diary date (YYYY-MM-DD).",
    _column("diary", "diary_date"),
)
_VISIT = _Event(
    "SE.VISIT",
    "Visit",
    True,
    "Scheduled",
    "A visit of the blinded visit calendar; its repeat key is the visit number.",
    _column("pgic", "visit"),
)
_LOG = _Event(
    "SE.LOG", "Log", False, "Common", "Dose levels and adverse events over the study.", None
)
EVENTS = (_ENROLMENT, _PHASE, _NIGHT, _VISIT, _LOG)

_T = TABLES_BY_NAME
LAYOUTS = (
    _Layout(_T["participants"], _ENROLMENT, "F.ENROLMENT", "IG.PARTICIPANT", False, "Participant"),
    _Layout(_T["periods"], _PHASE, "F.PHASE", "IG.PHASE", False, "Planned phase"),
    _Layout(_T["diary"], _NIGHT, "F.DIARY", "IG.DIARY", False, "Diary answers of the night"),
    _Layout(_T["side_effects"], _NIGHT, "F.DIARY", "IG.SIDE_EFFECT", True, "Side effect ticked"),
    _Layout(_T["pgic"], _VISIT, "F.VISIT", "IG.PGIC", False, "PGIC answer"),
    _Layout(_T["blinding"], _VISIT, "F.VISIT", "IG.BLINDING", False, "Blinding question"),
    _Layout(_T["doses"], _LOG, "F.DOSES", "IG.DOSE", True, "Dose level"),
    _Layout(_T["adverse_events"], _LOG, "F.ADVERSE_EVENTS", "IG.AE", True, "Adverse event"),
)
"""Every table's place, in the order of events, forms and item groups in a SubjectData."""
_FORMS = {
    "F.ENROLMENT": "Enrolment",
    "F.PHASE": "Phase",
    "F.DIARY": "Nightly diary",
    "F.VISIT": "End-of-visit questions",
    "F.DOSES": "Dose levels",
    "F.ADVERSE_EVENTS": "Adverse events",
}


def item_oid(table: Table, column: Column) -> str:
    """The ItemDef OID of a table's column, e.g. ``IT.PERIODS.CONDITION``."""
    return f"IT.{table.name.upper()}.{column.name.upper()}"


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _q(tag), attributes)


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = _sub(parent, tag)
    _sub(element, "TranslatedText").text = text
    return element


# --------------------------------------------------------------------------------- writing


def write_odm(
    dataset: TrialDataset, out: Path, *, created_at: dt.datetime | None = None
) -> list[Path]:
    """Write `dataset` as ``odm.xml`` in the folder `out` (created if needed); the files written.

    `created_at` is the file's CreationDateTime (default: now). Raises ValueError when a row
    names an unknown participant, lacks a key the ODM needs or holds a character XML cannot
    carry; OSError when the file cannot be written.
    """
    stamp = (created_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    root = odm_document(dataset, created_at=stamp)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ODM_FILE
    etree.ElementTree(root).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return [path]


def odm_document(dataset: TrialDataset, *, created_at: dt.datetime) -> etree._Element:
    """The ODM element of `dataset` (see the module's docstring)."""
    protocol = dataset.protocol.protocol
    blinded = bool(dataset.provenance.get("blinded"))
    cells = {table.name: _cells(dataset, table) for table in TABLES}
    study_oid = f"ST.{protocol.study.id}"
    mdv_oid = f"MDV.{dataset.protocol.sha256[:16]}"
    root = etree.Element(_q("ODM"), nsmap={None: NS})  # type: ignore[dict-item]
    root.set("Description", PROVENANCE_PREFIX + json.dumps(dataset.provenance))
    root.set("FileType", "Snapshot")
    root.set("Granularity", "All")
    root.set("FileOID", f"ODM.{protocol.study.id}.{created_at:%Y%m%dT%H%M%SZ}")
    root.set("CreationDateTime", f"{created_at:%Y-%m-%dT%H:%M:%S}Z")
    root.set("ODMVersion", ODM_VERSION)
    root.set("SourceSystem", SOURCE_SYSTEM)
    study = _sub(root, "Study", OID=study_oid)
    variables = _sub(study, "GlobalVariables")
    _sub(variables, "StudyName").text = protocol.study.id
    _sub(variables, "StudyDescription").text = protocol.study.title
    _sub(variables, "ProtocolName").text = protocol.study.id
    participants = cells["participants"]
    events = cells["adverse_events"]
    signing = _Signing.of(
        placed_signatures(
            dataset.provenance,
            dict(zip(participants["participant_id"], participants["site"], strict=True)),
            set(zip(events["participant_id"], events["ae_id"], strict=True)),
        )
    )
    _metadata(study, dataset, mdv_oid, blinded=blinded, signed=bool(signing.placed))
    sites = _sites(participants)
    _admin(root, study_oid, mdv_oid, participants, sites, signing)
    _clinical(root, study_oid, mdv_oid, cells, {item.id for item in protocol.diary.items}, signing)
    return root


_Cells = dict[str, list[str]]
"""A table's columns of text by name, as its CSV file holds them ('' when missing)."""


def _cells(dataset: TrialDataset, table: Table) -> _Cells:
    """The table's cells as the dataset's CSV file holds them (booleans as XML's true/false)."""
    data = b"".join(iter_table_bytes(dataset.table(table.name), table))
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False)
    cells: _Cells = {}
    for column in table.columns:
        texts = [str(text) for text in frame[column.name]]
        if column.type == "boolean":
            spelling = {"TRUE": _TRUE, "FALSE": _FALSE, "": ""}
            texts = [spelling[text] for text in texts]
        cells[column.name] = texts
    return cells


def _metadata(
    study: etree._Element, dataset: TrialDataset, oid: str, *, blinded: bool, signed: bool
) -> None:
    protocol = dataset.protocol.protocol
    version = _sub(
        study,
        "MetaDataVersion",
        OID=oid,
        Name=f"Protocol {dataset.protocol.sha256[:12]}",
        Description=f"{protocol.study.title} (protocol SHA-256 {dataset.protocol.sha256})",
    )
    protocol_element = _sub(version, "Protocol")
    _text(protocol_element, "Description", dataset.protocol.text)
    for order, event in enumerate(EVENTS, start=1):
        _sub(
            protocol_element,
            "StudyEventRef",
            StudyEventOID=event.oid,
            OrderNumber=str(order),
            Mandatory="Yes" if event is _ENROLMENT else "No",
        )
    for event in EVENTS:
        definition = _sub(
            version,
            "StudyEventDef",
            OID=event.oid,
            Name=event.name,
            Repeating="Yes" if event.repeating else "No",
            Type=event.kind,
        )
        _text(definition, "Description", event.description)
        forms = list(dict.fromkeys(layout.form for layout in LAYOUTS if layout.event is event))
        for order, form in enumerate(forms, start=1):
            _sub(definition, "FormRef", FormOID=form, OrderNumber=str(order), Mandatory="No")
    for form, name in _FORMS.items():
        definition = _sub(version, "FormDef", OID=form, Name=name, Repeating="No")
        groups = [layout for layout in LAYOUTS if layout.form == form]
        for order, layout in enumerate(groups, start=1):
            _sub(
                definition,
                "ItemGroupRef",
                ItemGroupOID=layout.group,
                OrderNumber=str(order),
                Mandatory="No",
            )
    codelists = _codelists(protocol, blinded=blinded)
    for layout in LAYOUTS:
        definition = _sub(
            version,
            "ItemGroupDef",
            OID=layout.group,
            Name=layout.table.name,
            Repeating="Yes" if layout.repeating else "No",
        )
        _text(definition, "Description", f"{layout.description}: {layout.table.description}")
        if layout.table.name == "diary":
            refs = [(DIARY_ITEM_PREFIX + item.id, item.required) for item in protocol.diary.items]
        else:
            refs = [(item_oid(layout.table, c), c.required) for c in layout.columns]
        for order, (ref, required) in enumerate(refs, start=1):
            _sub(
                definition,
                "ItemRef",
                ItemOID=ref,
                OrderNumber=str(order),
                Mandatory="Yes" if required else "No",
            )
    for item in protocol.diary.items:
        _diary_item_def(version, item.id, protocol)
    for layout in LAYOUTS:
        if layout.table.name == "diary":
            continue
        for column in layout.columns:
            _item_def(version, layout.table, column, codelists, protocol)
    for codelist in _unique(codelists.values()):
        version.append(codelist)
    if signed:
        version.append(_codelist(SIGNATURE_STATES_OID, "signature_state", SIGNATURE_STATES))


def _diary_item_def(version: etree._Element, item_id: str, protocol: Protocol) -> None:
    item = protocol.diary.item(item_id)
    definition = _sub(version, "ItemDef", OID=DIARY_ITEM_PREFIX + item.id, Name=item.id)
    definition.set("DataType", "float")
    low, high = item.anchors
    _text(
        definition,
        "Description",
        f"{item.label} ({item.scale}: {item.lowest} {low}, {item.highest} {high}; "
        f"{item.direction.replace('_', ' ')})",
    )
    _text(definition, "Question", item.question)
    for comparator, value in (("GE", item.lowest), ("LE", item.highest)):
        check = _sub(definition, "RangeCheck", Comparator=comparator, SoftHard="Hard")
        _sub(check, "CheckValue").text = str(value)


def _item_def(
    version: etree._Element,
    table: Table,
    column: Column,
    codelists: Mapping[str, etree._Element],
    protocol: Protocol,
) -> None:
    definition = _sub(
        version,
        "ItemDef",
        OID=item_oid(table, column),
        Name=column.name,
        DataType=_DATA_TYPES[column.type],
    )
    _text(definition, "Description", column.description)
    if table.name == "pgic" and column.name == "score":
        _text(definition, "Question", protocol.pgic.question)
    codelist = codelists.get(f"{table.name}.{column.name}")
    if codelist is not None:
        _sub(definition, "CodeListRef", CodeListOID=codelist.get("OID", ""))


def _codelist(
    oid: str,
    name: str,
    values: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    data_type: str = "text",
) -> etree._Element:
    codelist = etree.Element(_q("CodeList"), OID=oid, Name=name, DataType=data_type)
    for order, value in enumerate(values, start=1):
        if labels is None:
            etree.SubElement(
                codelist, _q("EnumeratedItem"), CodedValue=value, OrderNumber=str(order)
            )
        else:
            entry = etree.SubElement(
                codelist, _q("CodeListItem"), CodedValue=value, OrderNumber=str(order)
            )
            _text(entry, "Decode", labels[order - 1])
    return codelist


def _codelists(protocol: Protocol, *, blinded: bool) -> dict[str, etree._Element]:
    """The code list of each enumerated column, by ``table.column``, then the diary's flags."""
    lists: dict[str, etree._Element] = {}
    for table in TABLES:
        for column in table.columns:
            if not column.enum:
                continue
            values: Sequence[str] = column.enum
            if (table.name, column.name) == ("periods", "condition"):
                # A blinded file lists no condition it cannot hold.
                hidden = {"active", "placebo"} if blinded else {BLINDED_CONDITION}
                values = [v for v in (*CONDITIONS, BLINDED_CONDITION) if v not in hidden]
            name = f"{table.name}.{column.name}"
            lists[name] = _codelist(f"CL.{table.name.upper()}.{column.name.upper()}", name, values)
    effects = protocol.diary.side_effects
    if effects:
        side_effect = _codelist(
            "CL.SIDE_EFFECT",
            "side_effect",
            [e.id for e in effects],
            labels=[e.label for e in effects],
        )
        lists["side_effects.side_effect"] = side_effect
        lists["adverse_events.side_effect"] = side_effect
    lists["doses.dose_level"] = _codelist("CL.DOSE_LEVEL", "dose_level", protocol.dosing.levels)
    lists["pgic.score"] = _codelist(
        "CL.PGIC",
        "pgic",
        [str(k) for k in range(1, len(PGIC_LABELS) + 1)],
        labels=PGIC_LABELS,
        data_type="integer",
    )
    if not blinded:
        lists["periods.arm"] = _codelist(
            "CL.ARM", "arm", [a.id for a in protocol.arms], labels=[a.name for a in protocol.arms]
        )
    lists["diary.flag"] = _codelist(DIARY_FLAGS_OID, "diary_flag", [LATE_FLAG])
    return lists


def _unique(codelists: Iterable[etree._Element]) -> list[etree._Element]:
    return list({id(c): c for c in codelists}.values())


def _sites(participants: _Cells) -> dict[str, str]:
    """Each site's Location OID, in order of first appearance."""
    sites: dict[str, str] = {}
    for row, site in enumerate(participants["site"]):
        if site == "":
            raise ValueError(f"participants.csv row {row + 2}: the participant has no site")
        sites.setdefault(site, f"LOC.{site}")
    return sites


def _user_oid(participant: str) -> str:
    return f"USR.{participant}"


def _admin(
    root: etree._Element,
    study_oid: str,
    mdv_oid: str,
    participants: _Cells,
    sites: Mapping[str, str],
    signing: _Signing,
) -> None:
    admin = _sub(root, "AdminData", StudyOID=study_oid)
    for participant, site in zip(participants["participant_id"], participants["site"], strict=True):
        user = _sub(admin, "User", OID=_user_oid(participant), UserType="Other")
        _sub(user, "DisplayName").text = f"Participant {participant}"
        _sub(user, "LocationRef", LocationOID=sites[site])
    for (signer, printed_name), oid in signing.users.items():
        # Casebooks and adverse events are signed off by investigators only.
        user = _sub(admin, "User", OID=oid, UserType="Investigator")
        _sub(user, "LoginName").text = signer
        _sub(user, "DisplayName").text = printed_name
        if printed_name != signer:  # the printed name is the username when there is no name
            _sub(user, "FullName").text = printed_name
    for site, oid in sites.items():
        starts = [
            start
            for start, at in zip(participants["start_date"], participants["site"], strict=True)
            if at == site and start != ""
        ]
        if not starts:
            raise ValueError(f"site {site!r}: no participant of the site has a start date")
        location = _sub(admin, "Location", OID=oid, Name=site, LocationType="Site")
        _sub(
            location,
            "MetaDataVersionRef",
            StudyOID=study_oid,
            MetaDataVersionOID=mdv_oid,
            EffectiveDate=min(starts),
        )
    for meaning, oid in signing.meanings.items():
        definition = _sub(admin, "SignatureDef", OID=oid, Methodology="Electronic")
        _sub(definition, "Meaning").text = meaning
        _sub(definition, "LegalReason").text = LEGAL_REASON


def _signature(element: etree._Element, signed: _Signed, signing: _Signing, site: str) -> None:
    """`signed` as the Signature of the data element `element` (before its other children)."""
    signature = _sub(element, "Signature", ID=signed.element_id)
    _sub(signature, "UserRef", UserOID=signing.users[(signed.signer, signed.printed_name)])
    _sub(signature, "LocationRef", LocationOID=f"LOC.{site}")
    _sub(signature, "SignatureRef", SignatureOID=signing.meanings[signed.meaning])
    _sub(signature, "DateTimeStamp").text = signed.signed_at


def _signature_annotation(element: etree._Element, signed: _Signed) -> None:
    """The content SHA-256 and the state of `signed`, as an Annotation of `element`."""
    annotation = _sub(element, "Annotation", SeqNum="1")
    _sub(annotation, "Comment").text = signed.comment
    flag = _sub(annotation, "Flag")
    _sub(flag, "FlagValue", CodeListOID=SIGNATURE_STATES_OID).text = signed.state


def _event_key(event: _Event, text: str) -> tuple[int, str]:
    """How the events of one kind are sorted: numbers by value, dates as text."""
    if event.key is not None and event.key.type == "integer":
        return (int(text), "")
    return (0, text)


def _clinical(
    root: etree._Element,
    study_oid: str,
    mdv_oid: str,
    cells: Mapping[str, _Cells],
    items: set[str],
    signing: _Signing,
) -> None:
    participants = cells["participants"]
    subject_of = {p: k for k, p in enumerate(participants["participant_id"])}
    if "" in subject_of or len(subject_of) != len(participants["participant_id"]):
        raise ValueError(
            "participants.csv: every participant needs a code of its own (a code is missing "
            "or given twice)"
        )
    # rows[subject][(event, key)][layout group] = row numbers, in the table's order
    rows: list[dict[tuple[str, str], dict[str, list[int]]]] = [{} for _ in subject_of]
    orders: dict[str, list[tuple[int, tuple[int, str], int]]] = {}
    for layout in LAYOUTS:
        frame = cells[layout.table.name]
        key_column = layout.event.key.name if layout.event.key is not None else None
        keys = frame[key_column] if key_column else [""] * len(frame["participant_id"])
        placed: list[tuple[int, tuple[int, str], int]] = []
        for row, (participant, key) in enumerate(zip(frame["participant_id"], keys, strict=True)):
            where = f"{layout.table.filename} row {row + 2}"
            subject = subject_of.get(participant)
            if subject is None:
                raise ValueError(f"{where}: unknown participant {participant!r}")
            if key_column and key == "":
                raise ValueError(f"{where}: {key_column} is missing")
            try:
                sort_key = _event_key(layout.event, key)
            except ValueError:
                raise ValueError(f"{where}: {key_column} {key!r} is not a number") from None
            rows[subject].setdefault((layout.event.oid, key), {}).setdefault(
                layout.group, []
            ).append(row)
            placed.append((subject, sort_key, row))
        orders[layout.table.name] = placed
    event_order = {event.oid: k for k, event in enumerate(EVENTS)}
    by_oid = {event.oid: event for event in EVENTS}
    clinical = _sub(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID=mdv_oid)
    for subject, (participant, site) in enumerate(
        zip(participants["participant_id"], participants["site"], strict=True)
    ):
        data = _sub(clinical, "SubjectData", SubjectKey=participant)
        casebook = signing.placed.get((participant, ""))
        if casebook is not None:
            _signature(data, casebook, signing, site)
        _sub(data, "SiteRef", LocationOID=f"LOC.{site}")
        if casebook is not None:
            _signature_annotation(data, casebook)
        events = sorted(
            rows[subject], key=lambda e: (event_order[e[0]], _event_key(by_oid[e[0]], e[1]))
        )
        for oid, key in events:
            _event_data(
                data, by_oid[oid], key, rows[subject][(oid, key)], cells, site, items, signing
            )
    annotations: list[tuple[str, list[int]]] = []
    for layout in LAYOUTS:
        placed = orders[layout.table.name]
        emitted = [row for _, _, row in sorted(placed)]
        if emitted != list(range(len(emitted))):
            annotations.append((layout.table.name, emitted))
    if annotations:
        container = _sub(clinical, "Annotations")
        for number, (table, emitted) in enumerate(annotations, start=1):
            annotation = _sub(container, "Annotation", SeqNum=str(number))
            _sub(
                annotation, "Comment"
            ).text = f"{ROW_ORDER_PREFIX}{table}: {' '.join(str(r + 1) for r in emitted)}"


def _event_data(
    subject: etree._Element,
    event: _Event,
    key: str,
    groups: Mapping[str, list[int]],
    cells: Mapping[str, _Cells],
    site: str,
    items: set[str],
    signing: _Signing,
) -> None:
    element = _sub(subject, "StudyEventData", StudyEventOID=event.oid)
    if event.repeating:
        element.set("StudyEventRepeatKey", key)
    forms: dict[str, etree._Element] = {}
    for layout in LAYOUTS:
        if layout.group not in groups:
            continue
        form = forms.get(layout.form)
        if form is None:
            form = forms[layout.form] = _sub(element, "FormData", FormOID=layout.form)
        frame = cells[layout.table.name]
        if layout.table.name == "diary":
            _diary_group(form, frame, groups[layout.group], site, items)
            continue
        for number, row in enumerate(groups[layout.group], start=1):
            group = _sub(form, "ItemGroupData", ItemGroupOID=layout.group)
            if layout.repeating:
                group.set("ItemGroupRepeatKey", str(number))
            ae_id = frame["ae_id"][row] if layout.table.name == "adverse_events" else ""
            signed = signing.placed.get((frame["participant_id"][row], ae_id)) if ae_id else None
            if signed is not None:
                _signature(group, signed, signing, site)
                _signature_annotation(group, signed)
            for column in layout.columns:
                value = frame[column.name][row]
                if value != "":
                    item = _sub(group, "ItemData", ItemOID=item_oid(layout.table, column))
                    _set_value(item, value, layout.table, row, column.name)


def _set_value(item: etree._Element, value: str, table: Table, row: int, column: str) -> None:
    try:
        item.set("Value", value)
    except ValueError:
        raise ValueError(
            f"{table.filename} row {row + 2}, {column}: holds a control character that XML "
            "cannot carry; remove it"
        ) from None


def _diary_group(
    form: etree._Element, frame: _Cells, rows: list[int], site: str, items: set[str]
) -> None:
    group = _sub(form, "ItemGroupData", ItemGroupOID="IG.DIARY")
    table = TABLES_BY_NAME["diary"]
    for row in rows:
        item_id = frame["item"][row]
        if item_id not in items:
            raise ValueError(
                f"diary.csv row {row + 2}: item {item_id!r} is not a diary item of the protocol"
            )
        item = _sub(group, "ItemData", ItemOID=DIARY_ITEM_PREFIX + item_id)
        value = frame["value"][row]
        if value == "":
            item.set("IsNull", "Yes")
        else:
            _set_value(item, value, table, row, "value")
        submitted = frame["submitted_at"][row]
        if submitted != "":
            audit = _sub(item, "AuditRecord")
            _sub(audit, "UserRef", UserOID=_user_oid(frame["participant_id"][row]))
            _sub(audit, "LocationRef", LocationOID=f"LOC.{site}")
            _sub(audit, "DateTimeStamp").text = submitted
        late = frame["late"][row]
        if late == _TRUE:
            annotation = _sub(item, "Annotation", SeqNum="1")
            flag = _sub(annotation, "Flag")
            _sub(flag, "FlagValue", CodeListOID=DIARY_FLAGS_OID).text = LATE_FLAG
        elif late != _FALSE:
            raise ValueError(f"diary.csv row {row + 2}: late is missing")


# --------------------------------------------------------------------------------- reading


def read_odm(path: Path, *, validate: bool = True) -> TrialDataset:
    """The trial dataset in the ODM file at `path`, as :func:`write_odm` wrote it.

    Raises OdmReadError naming the element when the file is not such a file (not XML, another
    namespace or root, a part missing or a value that does not parse), and DatasetError when,
    with `validate`, the dataset it holds fails the dataset's checks.
    """
    root = _parse(path)
    reader = _Reader(path)
    study = reader.child(root, "Study", "ODM")
    version = reader.child(study, "MetaDataVersion", "Study")
    protocol_element = reader.child(version, "Protocol", "MetaDataVersion")
    description = reader.child(protocol_element, "Description", "Protocol")
    text = reader.child(description, "TranslatedText", "Protocol/Description").text or ""
    try:
        protocol = parse_protocol(text, source=f"{path} (Protocol/Description)")
    except ProtocolError as error:
        reader.fail(str(error), "MetaDataVersion/Protocol/Description")
    provenance = reader.provenance(root.get("Description"))
    clinical = reader.child(root, "ClinicalData", "ODM")
    texts = reader.clinical_data(clinical)
    reader.signatures(root, clinical, provenance, texts)
    frames = {table.name: reader.frame(table, texts[table.name]) for table in TABLES}
    dataset = TrialDataset.from_tables(protocol, frames, provenance=provenance)
    if validate:
        issues = validate_dataset(dataset)
        if issues:
            raise DatasetError(str(path), issues)
    return dataset


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OdmReadError(path, f"cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise OdmReadError(path, "the file is empty; an ODM file is an XML document")
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise OdmReadError(
            path, f"not valid XML ({error.msg}, line {error.lineno}); was the file cut short?"
        ) from None
    if root.tag != _q("ODM"):
        found = etree.QName(root)
        namespace = f" in the namespace {found.namespace}" if found.namespace else ""
        raise OdmReadError(
            path,
            f"not a CDISC ODM 1.3 file: its root element is {found.localname}{namespace}, "
            f"not ODM in the namespace {NS}",
            found.localname,
        )
    return root


_Row = dict[str, str | None]


class _Reader:
    """Reads the parts of one file; every failure names the element."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.row_subjects: dict[str, list[str]] = {t.name: [] for t in TABLES}
        self.signed_elements: list[tuple[tuple[str, str], etree._Element, str]] = []
        """The data elements that may hold a Signature: (place, element, where)."""

    def fail(self, message: str, element: str) -> NoReturn:
        raise OdmReadError(self.path, message, element)

    def child(self, parent: etree._Element, tag: str, where: str) -> etree._Element:
        found = parent.find(_q(tag))
        if found is None:
            self.fail(
                f"missing element {tag}: this is not a trial dataset written as ODM by diarytrial",
                f"{where}/{tag}",
            )
        return found

    def provenance(self, description: str | None) -> dict[str, Any]:
        if description is None or not description.startswith(PROVENANCE_PREFIX):
            self.fail(
                f"the ODM element's Description does not start with {PROVENANCE_PREFIX!r}: "
                "this is not a trial dataset written as ODM by diarytrial",
                "ODM/@Description",
            )
        try:
            value = json.loads(description[len(PROVENANCE_PREFIX) :])
        except json.JSONDecodeError as error:
            self.fail(f"the provenance is not valid JSON ({error.msg})", "ODM/@Description")
        if not isinstance(value, dict):
            self.fail("the provenance is not a JSON object", "ODM/@Description")
        return value

    def clinical_data(self, clinical: etree._Element) -> dict[str, list[_Row]]:
        texts: dict[str, list[_Row]] = {t.name: [] for t in TABLES}
        layouts = {layout.group: layout for layout in LAYOUTS}
        events = {event.oid: event for event in EVENTS}
        for subject in clinical.iterfind(_q("SubjectData")):
            key = subject.get("SubjectKey") or ""
            where = f"SubjectData {key}"
            site_ref = subject.find(_q("SiteRef"))
            site = (
                site_ref.get("LocationOID", "").removeprefix("LOC.") if site_ref is not None else ""
            )
            participant: _Row | None = None
            self.signed_elements.append(((key, ""), subject, where))
            for event_data in subject.iterfind(_q("StudyEventData")):
                event = events.get(event_data.get("StudyEventOID", ""))
                if event is None:
                    self.fail(
                        f"unknown StudyEventOID {event_data.get('StudyEventOID')!r}",
                        f"{where}/StudyEventData",
                    )
                event_key = event_data.get("StudyEventRepeatKey")
                for group in event_data.iterfind(f"{_q('FormData')}/{_q('ItemGroupData')}"):
                    layout = layouts.get(group.get("ItemGroupOID", ""))
                    if layout is None or layout.event is not event:
                        self.fail(
                            f"unknown ItemGroupOID {group.get('ItemGroupOID')!r} in a "
                            f"{event.oid} event",
                            f"{where}/StudyEventData/FormData/ItemGroupData",
                        )
                    context = f"{where}/{event.oid}[{event_key or ''}]/{layout.group}"
                    common: _Row = {"participant_id": key}
                    if event.key is not None:
                        if not event_key:
                            self.fail("missing StudyEventRepeatKey", context)
                        common[event.key.name] = event_key
                    name = layout.table.name
                    if name == "diary":
                        for row in self.diary_rows(group, context):
                            texts[name].append(common | row)
                            self.row_subjects[name].append(key)
                        continue
                    row = common | self.items(group, layout, context)
                    if name == "adverse_events" and row.get("ae_id"):
                        place = (key, str(row["ae_id"]))
                        self.signed_elements.append((place, group, f"{context}[{place[1]}]"))
                    if name == "participants":
                        row["site"] = site or None
                        participant = row
                    texts[name].append(row)
                    self.row_subjects[name].append(key)
            if participant is None:
                self.fail("no participant record (StudyEventData SE.ENROLMENT)", where)
        self.reorder(clinical, texts)
        return texts

    def signatures(
        self,
        root: etree._Element,
        clinical: etree._Element,
        provenance: Mapping[str, Any],
        texts: Mapping[str, list[_Row]],
    ) -> None:
        """Check that the Signatures are those of the provenance, each where it belongs."""
        sites = {
            str(row["participant_id"]): str(row.get("site") or "") for row in texts["participants"]
        }
        events = {
            (str(row["participant_id"]), str(row.get("ae_id") or ""))
            for row in texts["adverse_events"]
        }
        placed = placed_signatures(provenance, sites, events)
        admin = root.find(_q("AdminData"))
        checked: list[etree._Element] = []
        for place, element, where in self.signed_elements:
            found = element.find(_q("Signature"))
            expected = placed.get(place)
            if expected is None:
                if found is not None:
                    self.fail(
                        f"a Signature ({found.get('ID')}) that the provenance does not record here",
                        f"{where}/Signature",
                    )
                continue
            if found is None:
                self.fail(
                    f"no Signature, but the provenance's signature {expected.id} "
                    f"({expected.act}) belongs here",
                    where,
                )
            self.signature(found, expected, element, admin, sites[place[0]], where)
            checked.append(found)
        for found in clinical.iter(_q("Signature")):
            if not any(found is done for done in checked):
                parent = found.getparent()
                owner = etree.QName(parent).localname if parent is not None else "ClinicalData"
                self.fail(
                    f"a Signature ({found.get('ID')}) in a {owner}: signatures are carried by a "
                    "participant's SubjectData (casebook) or an adverse event's ItemGroupData",
                    f"{owner}/Signature",
                )

    def signature(
        self,
        found: etree._Element,
        expected: _Signed,
        element: etree._Element,
        admin: etree._Element | None,
        site: str,
        owner: str,
    ) -> None:
        """Check one Signature of the element `owner` against the provenance's `expected`."""
        where = f"{owner}/Signature"
        said = f"the provenance's signature {expected.id}"
        if found.get("ID") != expected.element_id:
            self.fail(
                f"ID {found.get('ID')!r}, but {said} has the ID {expected.element_id}",
                f"{where}/@ID",
            )

        def defined(tag: str, ref: str, attribute: str) -> etree._Element:
            reference = found.find(_q(ref))
            oid = reference.get(attribute) if reference is not None else None
            for candidate in admin.iterfind(_q(tag)) if admin is not None else ():
                if oid is not None and candidate.get("OID") == oid:
                    return candidate
            self.fail(f"{ref} {oid!r} is no {tag} of the AdminData", f"{where}/{ref}")

        user = defined("User", "UserRef", "UserOID")
        login, name = user.findtext(_q("LoginName")), user.findtext(_q("DisplayName"))
        if (login, name) != (expected.signer, expected.printed_name):
            self.fail(
                f"signed by {login!r} ({name!r}), but {said} was signed by {expected.signer!r} "
                f"({expected.printed_name!r})",
                f"{where}/UserRef",
            )
        location = defined("Location", "LocationRef", "LocationOID")
        if location.get("OID") != f"LOC.{site}":
            self.fail(
                f"signed at {location.get('OID')!r}, but the record signed is of the site {site!r}",
                f"{where}/LocationRef",
            )
        meaning = defined("SignatureDef", "SignatureRef", "SignatureOID").findtext(_q("Meaning"))
        if meaning != expected.meaning:
            self.fail(
                f"meaning {meaning!r}, but {said} means {expected.meaning!r}",
                f"{where}/SignatureRef",
            )
        stamp = found.findtext(_q("DateTimeStamp"))
        if stamp != expected.signed_at:
            self.fail(
                f"signed at {stamp!r}, but {said} was signed at {expected.signed_at!r}",
                f"{where}/DateTimeStamp",
            )
        for annotation in element.iterfind(_q("Annotation")):
            comment = annotation.findtext(_q("Comment")) or ""
            if not comment.startswith(f"{SIGNATURE_PREFIX}{expected.element_id}:"):
                continue
            state = annotation.findtext(f"{_q('Flag')}/{_q('FlagValue')}")
            if (comment, state) != (expected.comment, expected.state):
                self.fail(
                    f"{comment!r}, state {state!r}, but {said} binds the content SHA-256 "
                    f"{expected.content_sha256} and was {expected.state} at the export",
                    f"{owner}/Annotation",
                )
            return
        self.fail(
            f"no Annotation giving the content SHA-256 and the state of {expected.element_id}",
            f"{owner}/Annotation",
        )

    def items(self, group: etree._Element, layout: _Layout, context: str) -> _Row:
        columns = {item_oid(layout.table, c): c.name for c in layout.columns}
        row: _Row = {}
        for item in group.iterfind(_q("ItemData")):
            oid = item.get("ItemOID", "")
            if oid not in columns:
                self.fail(f"unknown ItemOID {oid!r}", f"{context}/ItemData")
            row[columns[oid]] = None if item.get("IsNull") == "Yes" else item.get("Value")
        return row

    def diary_rows(self, group: etree._Element, context: str) -> Iterable[_Row]:
        for item in group.iterfind(_q("ItemData")):
            oid = item.get("ItemOID", "")
            if not oid.startswith(DIARY_ITEM_PREFIX):
                self.fail(f"unknown ItemOID {oid!r}", f"{context}/ItemData")
            stamp = item.find(f"{_q('AuditRecord')}/{_q('DateTimeStamp')}")
            flags = item.iterfind(f"{_q('Annotation')}/{_q('Flag')}/{_q('FlagValue')}")
            yield {
                "item": oid.removeprefix(DIARY_ITEM_PREFIX),
                "value": None if item.get("IsNull") == "Yes" else item.get("Value"),
                "submitted_at": stamp.text if stamp is not None else None,
                "late": _TRUE if any(f.text == LATE_FLAG for f in flags) else _FALSE,
            }

    def reorder(self, clinical: etree._Element, texts: dict[str, list[_Row]]) -> None:
        """Put back each table's rows in the order an annotation records, if any."""
        for comment in clinical.iterfind(f"{_q('Annotations')}/{_q('Annotation')}/{_q('Comment')}"):
            content = comment.text or ""
            if not content.startswith(ROW_ORDER_PREFIX):
                continue
            table, _, numbers = content.removeprefix(ROW_ORDER_PREFIX).partition(":")
            where = "ClinicalData/Annotations/Annotation/Comment"
            if table not in texts:
                self.fail(f"a row order of an unknown table {table!r}", where)
            try:
                order = [int(n) - 1 for n in numbers.split()]
            except ValueError:
                self.fail(f"the row order of {table} is not a list of numbers", where)
            rows = texts[table]
            if sorted(order) != list(range(len(rows))):
                self.fail(f"the row order of {table} does not match its {len(rows)} rows", where)
            placed: list[_Row] = [{}] * len(rows)
            subjects = [""] * len(rows)
            for row, position in zip(rows, order, strict=True):
                placed[position] = row
            for subject, position in zip(self.row_subjects[table], order, strict=True):
                subjects[position] = subject
            texts[table] = placed
            self.row_subjects[table] = subjects

    def frame(self, table: Table, rows: list[_Row]) -> pd.DataFrame:
        columns = {
            c.name: self.column(table, c, [row.get(c.name) for row in rows]) for c in table.columns
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))

    def column(self, table: Table, column: Column, texts: list[str | None]) -> Any:
        raw = pd.Series(texts, dtype=object)
        present = raw.notna().to_numpy()
        kind = column.type
        if kind == "string":
            return raw
        parsed: pd.Series
        if kind in {"integer", "number"}:
            numbers = pd.to_numeric(raw, errors="coerce")
            parsed = numbers
            bad = present & ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
            if kind == "integer":
                whole = numbers.fillna(0).to_numpy(dtype=float)
                bad |= present & (np.round(whole) != whole)
                if not bad.any():
                    parsed = pd.Series(
                        pd.array(
                            [int(n) if p else None for n, p in zip(whole, present, strict=True)],
                            dtype="Int64",
                        )
                    )
        elif kind == "boolean":
            truth = raw.map({_TRUE: True, "1": True, _FALSE: False, "0": False})
            bad = present & truth.isna().to_numpy()
            parsed = truth.astype(bool) if present.all() else truth.astype("boolean")
        elif kind == "date":
            dates = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
            bad = present & dates.isna().to_numpy()
            parsed = dates.astype("datetime64[s]")
        else:
            instants = pd.to_datetime(raw, format="ISO8601", utc=True, errors="coerce")
            bad = present & instants.isna().to_numpy()
            parsed = instants
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            self.fail(
                f"{texts[first]!r} is not a valid {kind} for {table.name}.{column.name}",
                f"SubjectData {self.row_subjects[table.name][first]}",
            )
        return parsed
