"""The nightly diary as FHIR resources: a Questionnaire, and a Bundle per participant with their
nights as QuestionnaireResponses.

Built and checked with fhir.resources' R4B models (FHIR 4.3, whose Questionnaire,
QuestionnaireResponse, Patient and Bundle have R4's structure): each resource is a pydantic
model, so a field of the wrong type, a missing required one or an unknown one is refused when
it is built, and the tests read every file back through the same models.

- **Questionnaire** (``questionnaire.json``): the diary date (``diary_date``, a date), one
  integer item per diary item (its id as ``linkId``, its question as text, its label as
  prefix, its scale as the minValue and maxValue extensions) and a group ``side_effects``
  with one choice item per entry of the checklist (answers ``not_at_all``, ``somewhat``,
  ``very``).
- **Bundle** (``participant-<code>.json``, a collection): the Patient, identified by the
  participant's code and nothing else, and one QuestionnaireResponse per diary night:
  completed, authored when the server received it, the answers, the side effects ticked.

Nothing of the allocation is written: the diary does not hold it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import (
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireItemAnswerOption,
)
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference

from diarytrial.dataset import TrialDataset
from diarytrial.dataset.tables import TABLES_BY_NAME
from diarytrial.protocol import Protocol

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
DIARY_DATE = "diary_date"
SIDE_EFFECTS = "side_effects"
UNPLEASANTNESS: tuple[str, ...] = TABLES_BY_NAME["side_effects"].column("unpleasantness").enum or ()
_NAMESPACE = uuid.UUID("6f1c2a63-5f0e-4c1e-9a57-0d3b9c1f7e21")


def questionnaire_url(protocol: Protocol) -> str:
    """The canonical URL of the study's diary questionnaire."""
    return f"urn:diarytrial:{protocol.study.id}:questionnaire:diary"


def _unpleasantness_system(protocol: Protocol) -> str:
    return f"urn:diarytrial:{protocol.study.id}:unpleasantness"


def participant_system(protocol: Protocol) -> str:
    """The identifier system of the study's participant codes."""
    return f"urn:diarytrial:{protocol.study.id}:participant"


def diary_questionnaire(protocol: Protocol) -> Questionnaire:
    """The nightly diary of `protocol` as a Questionnaire."""
    items = [
        QuestionnaireItem(
            linkId=DIARY_DATE, type="date", required=True, text="The night the entry is for"
        ),
        *(
            QuestionnaireItem(
                linkId=item.id,
                type="integer",
                prefix=item.label,
                text=item.question,
                required=item.required,
                extension=[
                    Extension(url=MIN_VALUE, valueInteger=item.lowest),
                    Extension(url=MAX_VALUE, valueInteger=item.highest),
                ],
            )
            for item in protocol.diary.items
        ),
    ]
    if protocol.diary.side_effects:
        system = _unpleasantness_system(protocol)
        items.append(
            QuestionnaireItem(
                linkId=SIDE_EFFECTS,
                type="group",
                text="Side effects tonight, and how unpleasant each was",
                item=[
                    QuestionnaireItem(
                        linkId=effect.id,
                        type="choice",
                        text=effect.label,
                        answerOption=[
                            QuestionnaireItemAnswerOption(
                                valueCoding=Coding(
                                    system=system, code=code, display=code.replace("_", " ")
                                )
                            )
                            for code in UNPLEASANTNESS
                        ],
                    )
                    for effect in protocol.diary.side_effects
                ],
            )
        )
    return Questionnaire(
        url=questionnaire_url(protocol),
        name=f"{protocol.study.id}_diary",
        title=f"Nightly diary: {protocol.study.title}",
        status="active",
        subjectType=["Patient"],
        item=items,
    )


def _day(value: object) -> dt.date:
    """A diary date of the dataset (a timestamp at midnight) as a date."""
    return pd.Timestamp(str(value)).date()


def _full_url(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '/'.join(parts))}"


def _answer_value(value: float, where: str) -> QuestionnaireResponseItemAnswer:
    if not float(value).is_integer():
        raise ValueError(f"{where}: {value} is not a whole number on the item's scale")
    return QuestionnaireResponseItemAnswer(valueInteger=int(value))


def participant_bundle(dataset: TrialDataset, participant_id: str) -> Bundle:
    """One participant's Patient and diary nights as a collection Bundle."""
    protocol = dataset.protocol.protocol
    study = protocol.study.id
    patient_url = _full_url(study, participant_id)
    patient = Patient(
        identifier=[Identifier(system=participant_system(protocol), value=participant_id)]
    )
    entries = [BundleEntry(fullUrl=patient_url, resource=patient)]
    order = [item.id for item in protocol.diary.items]
    diary = dataset.diary[dataset.diary["participant_id"] == participant_id]
    effects = dataset.side_effects[dataset.side_effects["participant_id"] == participant_id]
    ticked: dict[dt.date, list[tuple[str, str]]] = {}
    for night, effect, level in zip(
        effects["diary_date"], effects["side_effect"], effects["unpleasantness"], strict=True
    ):
        ticked.setdefault(_day(night), []).append((str(effect), str(level)))
    system = _unpleasantness_system(protocol)
    for night, answers in diary.groupby("diary_date", sort=True):
        day = _day(night)
        values = dict(zip(answers["item"], answers["value"], strict=True))
        where = f"{participant_id} {day.isoformat()}"
        items = [
            QuestionnaireResponseItem(
                linkId=DIARY_DATE, answer=[QuestionnaireResponseItemAnswer(valueDate=day)]
            ),
            *(
                QuestionnaireResponseItem(
                    linkId=item, answer=[_answer_value(values[item], f"{where} {item}")]
                )
                for item in order
                if item in values and not pd.isna(values[item])
            ),
        ]
        tonight = ticked.get(day, [])
        if tonight:
            items.append(
                QuestionnaireResponseItem(
                    linkId=SIDE_EFFECTS,
                    item=[
                        QuestionnaireResponseItem(
                            linkId=effect,
                            answer=[
                                QuestionnaireResponseItemAnswer(
                                    valueCoding=Coding(system=system, code=level)
                                )
                            ],
                        )
                        for effect, level in sorted(tonight)
                    ],
                )
            )
        response = QuestionnaireResponse(
            questionnaire=questionnaire_url(protocol),
            status="completed",
            subject=Reference(reference=patient_url),
            authored=pd.to_datetime(answers["submitted_at"], utc=True).min().to_pydatetime(),
            item=items,
        )
        entries.append(
            BundleEntry(
                fullUrl=_full_url(study, participant_id, day.isoformat()), resource=response
            )
        )
    return Bundle(type="collection", entry=entries)


def bundle_name(protocol: Protocol, participant_id: str) -> str:
    """The participant's part of their bundle's file name: the code where it is a plain file
    name (letters, digits, '-', '_'), else a name made from it."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", participant_id):
        return participant_id
    return str(uuid.uuid5(_NAMESPACE, f"{protocol.study.id}/{participant_id}"))


def _json(resource: Any) -> str:
    return json.dumps(json.loads(resource.model_dump_json(exclude_none=True)), indent=2) + "\n"


def write_fhir(dataset: TrialDataset, directory: Path) -> list[Path]:
    """Write the questionnaire and a bundle per participant to `directory` (JSON); return the
    files written."""
    directory.mkdir(parents=True, exist_ok=True)
    protocol = dataset.protocol.protocol
    written = [directory / "questionnaire.json"]
    written[0].write_text(_json(diary_questionnaire(protocol)), encoding="utf-8")
    for participant_id in sorted(dataset.participants["participant_id"].astype(str)):
        path = directory / f"participant-{bundle_name(protocol, participant_id)}.json"
        path.write_text(_json(participant_bundle(dataset, participant_id)), encoding="utf-8")
        written.append(path)
    return written
