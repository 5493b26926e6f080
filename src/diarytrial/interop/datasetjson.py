"""The SDTM domains as CDISC Dataset-JSON v1.1 files, described by a Define-XML 2.1.

`write_dataset_json` writes, into one folder:

- ``define.xml``: the Define-XML 2.1 of the domains, built with odmlib's Define-XML 2.1
  model: one ItemGroupDef per domain (its class, structure, keys and a ``def:leaf`` naming
  its file), one ItemDef per variable (data type, length, label, origin, codelist), the
  CodeLists of controlled values (the CDISC ones with their NCI code), a MethodDef per
  derivation and a CommentDef where a variable holds less than its name promises;
- ``define.html``: the same rendered for a person with the CDISC stylesheet that ships in
  defineutils;
- one Dataset-JSON v1.1 file per domain (``dm.json``, ``se.json``, ...), written by dsjframe
  from the domain's frame and ``define.xml``: each file's ``itemGroupOID`` is its
  ItemGroupDef's OID and each column's ``itemOID``, label, type and length come from its
  ItemDef.

dsjframe stamps each file with the time it was written (``datasetJSONCreationDateTime``);
everything else in the folder depends only on the dataset and `created_at`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import odmlib.define_2_1.model as define
import pandas as pd
from defineutils.definehtml import DefineHtml  # type: ignore[import-untyped]
from lxml import etree

from diarytrial import __version__
from diarytrial.dataset import TrialDataset
from diarytrial.interop.sdtm import (
    METHODS,
    SDTMIG_VERSION,
    Codelist,
    SdtmDomain,
    Variable,
    sdtm_domains,
)

DATASET_JSON_VERSION = "1.1.0"
DEFINE_VERSION = "2.1.0"
CT_VERSION = "2024-03-29"
"""The CDISC SDTM controlled terminology release the CDISC codelists are named after."""
SOURCE_SYSTEM = "diarytrial"
STANDARD_IG = "STD.SDTMIG"
STANDARD_CT = "STD.CT"
DEFINE_FILE = "define.xml"
DEFINE_HTML = "define.html"


def item_group_oid(domain: str) -> str:
    """The OID of a domain's ItemGroupDef (and of its Dataset-JSON file's itemGroupOID)."""
    return f"IG.{domain}"


def item_oid(domain: str, variable: str) -> str:
    """The OID of a variable's ItemDef (and of its Dataset-JSON column's itemOID)."""
    return f"IT.{domain}.{variable}"


def codelist_oid(codelist: str) -> str:
    return f"CL.{codelist}"


def method_oid(method: str) -> str:
    return f"MT.{method}"


def comment_oid(domain: str, variable: str) -> str:
    return f"COM.{domain}.{variable}"


def dataset_filename(domain: str) -> str:
    """The Dataset-JSON file of a domain: its name in lower case, e.g. ``dm.json``."""
    return f"{domain.lower()}.json"


def _text(text: str) -> define.Description:
    return define.Description(TranslatedText=[define.TranslatedText(_content=text, lang="en")])


def _length(variable: Variable, series: pd.Series) -> int | None:
    """The Define-XML Length: the longest value, in characters (text) or digits (numbers)."""
    if variable.type == "date":
        return None
    values = [v for v in series if not pd.isna(v)]
    if variable.type == "float":
        return max([len(f"{float(v):g}".replace("-", "").replace(".", "")) for v in values] or [1])
    return max([len(str(v)) for v in values] or [1])


def _significant_digits(variable: Variable, series: pd.Series) -> int | None:
    """Digits after the decimal point of a float variable (SignificantDigits)."""
    if variable.type != "float":
        return None
    digits = [len(f"{float(v):g}".partition(".")[2]) for v in series if not pd.isna(v)]
    return max(digits or [0])


def _merged_codelists(domains: Iterable[SdtmDomain]) -> dict[str, Codelist]:
    """The codelists of every domain, those of one id (EPOCH, VISITNUM, ...) merged."""
    merged: dict[str, Codelist] = {}
    for domain in domains:
        for codelist in domain.codelists.values():
            known = merged.get(codelist.id)
            if known is None:
                merged[codelist.id] = codelist
            else:
                terms = {**known.terms, **codelist.terms}
                merged[codelist.id] = dataclasses.replace(
                    known, terms=terms, extended=known.extended | codelist.extended
                )
    return merged


def _codelist(codelist: Codelist) -> define.CodeList:
    element = define.CodeList(
        OID=codelist_oid(codelist.id), Name=codelist.name, DataType=codelist.data_type
    )
    if codelist.nci_code is not None:
        element.StandardOID = STANDARD_CT
    terms = list(codelist.terms.items())
    if codelist.data_type == "integer":
        terms.sort(key=lambda term: int(term[0]))
    if any(decode for _, decode in terms):
        element.CodeListItem = [
            define.CodeListItem(
                CodedValue=value,
                OrderNumber=k,
                Decode=define.Decode(
                    TranslatedText=[define.TranslatedText(_content=decode or value, lang="en")]
                ),
            )
            for k, (value, decode) in enumerate(terms, start=1)
        ]
    else:
        element.EnumeratedItem = [
            define.EnumeratedItem(CodedValue=value, OrderNumber=k)
            for k, (value, _) in enumerate(terms, start=1)
        ]
        for item in element.EnumeratedItem:
            if item.CodedValue in codelist.extended:
                item.ExtendedValue = "Yes"
    if codelist.nci_code is not None:
        element.Alias = [define.Alias(Context="nci:ExtCodeID", Name=codelist.nci_code)]
    return element


def _item_def(domain: SdtmDomain, variable: Variable) -> define.ItemDef:
    series = domain.frame[variable.name]
    item = define.ItemDef(
        OID=item_oid(domain.name, variable.name), Name=variable.name, DataType=variable.type
    )
    length = _length(variable, series)
    if length is not None:
        item.Length = length
    digits = _significant_digits(variable, series)
    if digits is not None:
        item.SignificantDigits = digits
    item.SASFieldName = variable.name
    if variable.comment is not None:
        item.CommentOID = comment_oid(domain.name, variable.name)
    item.Description = _text(variable.label)
    if variable.codelist is not None and variable.codelist in domain.codelists:
        item.CodeListRef = define.CodeListRef(CodeListOID=codelist_oid(variable.codelist))
    origin = define.Origin(Type=variable.origin)
    if variable.origin == "Collected":
        origin.Source = variable.source
    item.Origin = [origin]
    return item


def _item_group(domain: SdtmDomain) -> define.ItemGroupDef:
    leaf_id = f"LF.{domain.name}"
    group = define.ItemGroupDef(
        OID=item_group_oid(domain.name),
        Name=domain.name,
        Repeating="Yes" if domain.repeating else "No",
        IsReferenceData="No",
        SASDatasetName=domain.name,
        Domain=domain.name,
        Purpose="Tabulation",
        Structure=domain.structure,
        ArchiveLocationID=leaf_id,
        StandardOID=STANDARD_IG,
    )
    if domain.frame.empty:
        group.HasNoData = "Yes"
    group.Description = _text(domain.label)
    for order, variable in enumerate(domain.variables, start=1):
        ref = define.ItemRef(
            ItemOID=item_oid(domain.name, variable.name),
            OrderNumber=order,
            Mandatory="Yes" if variable.mandatory else "No",
            Role=variable.role,
        )
        if variable.name in domain.keys:
            ref.KeySequence = domain.keys.index(variable.name) + 1
        if variable.method is not None:
            ref.MethodOID = method_oid(variable.method)
        group.ItemRef.append(ref)
    group.Class = define.Class(Name=domain.domain_class)
    filename = dataset_filename(domain.name)
    group.leaf = define.leaf(ID=leaf_id, href=filename, title=define.title(_content=filename))
    return group


def define_xml(
    domains: list[SdtmDomain], dataset: TrialDataset, *, created_at: dt.datetime
) -> define.ODM:
    """The Define-XML 2.1 document describing `domains` of `dataset`."""
    protocol = dataset.protocol.protocol
    study = protocol.study
    version = define.MetaDataVersion(
        OID=f"MDV.{study.id}",
        Name=f"{study.id} SDTM",
        Description=f"SDTM-style tabulation of the trial dataset of {study.id}",
        DefineVersion=DEFINE_VERSION,
    )
    version.Standards = define.Standards(
        Standard=[
            define.Standard(
                OID=STANDARD_IG, Name="SDTMIG", Type="IG", Version=SDTMIG_VERSION, Status="Final"
            ),
            define.Standard(
                OID=STANDARD_CT,
                Name="CDISC/NCI",
                Type="CT",
                PublishingSet="SDTM",
                Version=CT_VERSION,
                Status="Final",
            ),
        ]
    )
    version.ItemGroupDef = [_item_group(domain) for domain in domains]
    version.ItemDef = [_item_def(d, v) for d in domains for v in d.variables]
    version.CodeList = [_codelist(c) for c in _merged_codelists(domains).values()]
    used = sorted({v.method for d in domains for v in d.variables if v.method is not None})
    version.MethodDef = [
        define.MethodDef(
            OID=method_oid(name),
            Name=name,
            Type="Computation",
            Description=_text(METHODS[name]),
        )
        for name in used
    ]
    version.CommentDef = [
        define.CommentDef(OID=comment_oid(d.name, v.name), Description=_text(v.comment))
        for d in domains
        for v in d.variables
        if v.comment is not None
    ]
    return define.ODM(
        FileType="Snapshot",
        FileOID=f"DEF.{study.id}",
        CreationDateTime=created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        ODMVersion="1.3.2",
        Originator=SOURCE_SYSTEM,
        SourceSystem=SOURCE_SYSTEM,
        SourceSystemVersion=__version__,
        Context="Other",
        Study=define.Study(
            OID=f"ST.{study.id}",
            GlobalVariables=define.GlobalVariables(
                StudyName=define.StudyName(_content=study.id),
                StudyDescription=define.StudyDescription(_content=study.title),
                ProtocolName=define.ProtocolName(_content=study.id),
            ),
            MetaDataVersion=version,
        ),
    )


def _write_define(document: define.ODM, path: Path) -> None:
    """Write the document indented: odmlib builds the XML, lxml lays it out."""
    tree = etree.fromstring(document.to_xml_string().encode("utf-8"))
    path.write_bytes(
        etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )


def write_dataset_json(
    dataset: TrialDataset, out: Path, *, created_at: dt.datetime | None = None
) -> list[Path]:
    """Write the SDTM domains of `dataset` into the folder `out` as Dataset-JSON v1.1 files
    with their ``define.xml`` (and ``define.html``); return the files written, the domains
    first (in the order of `sdtm_domains`), then ``define.xml`` and ``define.html``.

    `created_at` is the Define-XML's CreationDateTime (now when not given).
    """
    # Imported here, when Dataset-JSON is written: dsjframe loads Apache Arrow, which nothing
    # else needs (and it is AGPL-licensed: docs/dataset.md).
    import dsjframe  # type: ignore[import-untyped]

    out.mkdir(parents=True, exist_ok=True)
    domains = sdtm_domains(dataset)
    document = define_xml(domains, dataset, created_at=created_at or dt.datetime.now(dt.UTC))
    define_path = out / DEFINE_FILE
    _write_define(document, define_path)
    study = dataset.protocol.protocol.study
    written = []
    for domain in domains:
        path = out / dataset_filename(domain.name)
        dsjframe.write_dataset(
            domain.frame,
            path,
            {
                "datasetJSONVersion": DATASET_JSON_VERSION,
                "fileOID": f"{study.id}.{domain.name}",
                "originator": SOURCE_SYSTEM,
                "sourceSystem": {"name": SOURCE_SYSTEM, "version": __version__},
                "studyOID": f"ST.{study.id}",
                "metaDataVersionOID": f"MDV.{study.id}",
                "metaDataRef": DEFINE_FILE,
                "itemGroupOID": item_group_oid(domain.name),
                "name": domain.name,
                "label": domain.label,
            },
            define_xml=define_path,
        )
        written.append(path)
    html_path = out / DEFINE_HTML
    DefineHtml(define_path).transform_to_html_file(html_path)
    return [*written, define_path, html_path]
