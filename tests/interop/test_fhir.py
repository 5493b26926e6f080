"""The diary as FHIR: a Questionnaire and a Bundle per participant, read back through
fhir.resources' models, every answer and side effect as in the dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from diarytrial.cli import main
from diarytrial.dataset import TrialDataset, write_dataset
from diarytrial.interop.fhir import (
    MAX_VALUE,
    MIN_VALUE,
    participant_bundle,
    participant_system,
    questionnaire_url,
    write_fhir,
)


@pytest.fixture(scope="module")
def written(dataset: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fhir")
    write_fhir(dataset, folder)
    return folder


def test_the_questionnaire_asks_the_protocols_items(dataset: TrialDataset, written: Path) -> None:
    protocol = dataset.protocol.protocol
    questionnaire = Questionnaire.model_validate_json((written / "questionnaire.json").read_text())
    assert questionnaire.url == questionnaire_url(protocol)
    by_id = {item.linkId: item for item in questionnaire.item}
    assert list(by_id) == ["diary_date", *(i.id for i in protocol.diary.items), "side_effects"]
    for item in protocol.diary.items:
        asked = by_id[item.id]
        assert (asked.type, asked.text, asked.prefix) == ("integer", item.question, item.label)
        bounds = {e.url: e.valueInteger for e in asked.extension}
        assert bounds == {MIN_VALUE: item.lowest, MAX_VALUE: item.highest}
    effects = by_id["side_effects"].item
    assert [e.linkId for e in effects] == [e.id for e in protocol.diary.side_effects]
    assert [o.valueCoding.code for o in effects[0].answerOption] == [
        "not_at_all",
        "somewhat",
        "very",
    ]


def test_each_bundle_holds_the_participants_nights_as_in_the_dataset(
    dataset: TrialDataset, written: Path
) -> None:
    protocol = dataset.protocol.protocol
    answers, effects, authored = [], [], {}
    for participant_id in dataset.participants["participant_id"]:
        bundle = Bundle.model_validate_json(
            (written / f"participant-{participant_id}.json").read_text()
        )
        assert bundle.type == "collection"
        patient = bundle.entry[0].resource
        assert isinstance(patient, Patient)
        assert [(i.system, i.value) for i in patient.identifier] == [
            (participant_system(protocol), participant_id)
        ]
        for entry in bundle.entry[1:]:
            response = entry.resource
            assert isinstance(response, QuestionnaireResponse)
            assert response.questionnaire == questionnaire_url(protocol)
            assert response.subject.reference == bundle.entry[0].fullUrl
            items = {item.linkId: item for item in response.item}
            night = items.pop("diary_date").answer[0].valueDate
            authored[(participant_id, night)] = response.authored
            for effect in items.pop("side_effects").item if "side_effects" in items else []:
                effects.append(
                    (participant_id, night, effect.linkId, effect.answer[0].valueCoding.code)
                )
            answers += [
                (participant_id, night, link, float(item.answer[0].valueInteger))
                for link, item in items.items()
            ]

    diary = dataset.diary
    assert sorted(answers) == sorted(
        zip(
            diary["participant_id"],
            [d.date() for d in diary["diary_date"]],
            diary["item"],
            diary["value"],
            strict=True,
        )
    )
    table = dataset.side_effects
    assert effects, "the simulated trial has side effects to carry"
    assert sorted(effects) == sorted(
        zip(
            table["participant_id"],
            [d.date() for d in table["diary_date"]],
            table["side_effect"],
            table["unpleasantness"],
            strict=True,
        )
    )
    first = diary.groupby(["participant_id", "diary_date"])["submitted_at"].min()
    for (participant_id, night), moment in first.items():
        assert authored[(participant_id, pd.Timestamp(night).date())] == moment.to_pydatetime()


def test_no_bundle_holds_the_allocation(dataset: TrialDataset, written: Path) -> None:
    sequences = set(dataset.participants["sequence"].dropna())
    assert sequences
    for path in written.glob("participant-*.json"):
        text = path.read_text()
        assert not any(sequence in text for sequence in sequences), path.name


def test_an_answer_off_the_items_scale_is_named(dataset: TrialDataset) -> None:
    diary = dataset.diary.copy()
    diary.loc[diary.index[0], "value"] = 37.5
    broken = TrialDataset(
        protocol=dataset.protocol,
        participants=dataset.participants,
        periods=dataset.periods,
        diary=diary,
    )
    row = diary.iloc[0]
    with pytest.raises(ValueError, match="is not a whole number") as raised:
        participant_bundle(broken, row["participant_id"])
    day = row["diary_date"].date().isoformat()
    assert f"{row['participant_id']} {day} {row['item']}: 37.5" in str(raised.value)


def test_the_command_writes_a_bundle_per_participant(
    dataset: TrialDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trial"
    write_dataset(dataset, folder)
    assert main(["convert", str(folder), "--to", "fhir", "--out", str(tmp_path / "fhir")]) == 0
    assert capsys.readouterr().out.startswith(f"FHIR R4 (JSON) files of the dataset {folder}:")
    names = sorted(path.name for path in (tmp_path / "fhir").iterdir())
    assert names == sorted(
        ["questionnaire.json"]
        + [f"participant-{p}.json" for p in dataset.participants["participant_id"]]
    )
