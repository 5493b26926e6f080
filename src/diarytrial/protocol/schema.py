"""The protocol file's schema: the shape and types of every field.

Cross-field rules (an arm named in a sequence must exist, a responder rule must name known
items, ...) live in :mod:`diarytrial.protocol.rules`, so that each problem can be reported
with the exact field it concerns.
"""

from __future__ import annotations

import datetime as dt
import itertools
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=40),
]
"""An identifier: lower-case letters, digits and underscores, starting with a letter."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

Condition = Literal["baseline", "active", "placebo", "washout"]

PGIC_LABELS: tuple[str, ...] = (
    "Very much improved",
    "Much improved",
    "Minimally improved",
    "No change",
    "Minimally worse",
    "Much worse",
    "Very much worse",
)
"""The 7 points of the Patient Global Impression of Change, score 1 to 7 in this order."""

SCALE_RANGES: dict[str, tuple[int, int]] = {"slider_0_100": (0, 100), "nrs_0_10": (0, 10)}
"""Lowest and highest value of each diary scale."""


class _Model(BaseModel):
    # nan and inf are valid TOML floats, but never a dose, a share or a threshold.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class StudyInfo(_Model):
    """Who the study is."""

    id: Slug
    title: Text
    target_enrolment: Annotated[int, Field(ge=1, le=100_000)] | None = None
    """How many participants the study plans to enrol; None when the protocol does not say."""


class Arm(_Model):
    """One treatment arm; `name` and `dose_mg` are unblinded information."""

    id: Slug
    name: Text
    role: Literal["active", "placebo"]
    dose_mg: dict[Slug, Annotated[float, Field(ge=0)]]


class Blinding(_Model):
    """What blinded staff and participants see in place of the arm; `washout` says whether a
    washout gives nothing to take or identical placebo capsules (see `protocol.visits`)."""

    label: Text = "Study medication"
    washout: Literal["no_capsules", "placebo_capsules"] = "no_capsules"

    @property
    def washout_capsules(self) -> bool:
        return self.washout == "placebo_capsules"


class Dosing(_Model):
    """Blinded dose levels, lowest first; each arm says what a level contains."""

    levels: list[Slug] = Field(min_length=1)
    start_level: Slug
    reduced_level: Slug | None = None
    opioid_start_level: Slug | None = None


BlockOrder = Literal["randomized_pairs", "ABAB", "ABBA"]


class Design(_Model):
    """Sequences of arms and the length of every phase."""

    kind: Literal["crossover", "nof1"]
    sequences: list[list[Slug]] | None = None
    blocks: Annotated[int, Field(ge=1, le=20)] | None = None
    block_order: BlockOrder | None = None
    baseline_days: Annotated[int, Field(ge=0, le=365)]
    washout_days: Annotated[int, Field(ge=0, le=365)] = 0
    treatment_days: (
        dict[Slug, Annotated[int, Field(ge=1, le=730)]]
        | list[Annotated[int, Field(ge=1, le=730)]]
        | Annotated[int, Field(ge=1, le=730)]
    )

    @field_validator("treatment_days", mode="before")
    @classmethod
    def _treatment_days_shape(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | dict | list):
            raise ValueError(
                "must be a number of days (28), a table of days per arm "
                "({ ldn = 84, placebo = 28 }) or a list of days per period ([28, 28])"
            )
        return value


class Item(_Model):
    """One nightly diary question."""

    id: Slug
    label: Text
    question: Text
    scale: Literal["slider_0_100", "nrs_0_10"]
    anchors: tuple[Text, Text]
    direction: Literal["higher_is_better", "higher_is_worse"]
    required: bool = True

    @property
    def lowest(self) -> int:
        return SCALE_RANGES[self.scale][0]

    @property
    def highest(self) -> int:
        return SCALE_RANGES[self.scale][1]


class SideEffect(_Model):
    """One entry of the nightly side-effect checklist."""

    id: Slug
    label: Text


class Diary(_Model):
    """The nightly diary: when it may be filled, and what it asks."""

    opens: dt.time
    closes: dt.time
    late_sync_grace_hours: Annotated[int, Field(ge=0, le=24 * 14)] = 72
    items: list[Item] = Field(min_length=1)
    side_effects: list[SideEffect] = []

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        # A local clock time, the same in every participant's zone: never a number (which
        # pydantic would read as seconds in UTC) nor a time with an offset.
        wrong = f"{value!r} is not a local clock time; write it as HH:MM, e.g. 18:00"
        if isinstance(value, str):
            try:
                value = dt.time.fromisoformat(value)
            except ValueError:
                raise ValueError(wrong) from None
        if not isinstance(value, dt.time) or value.tzinfo is not None:
            raise ValueError(wrong)
        return value

    @property
    def crosses_midnight(self) -> bool:
        return self.closes <= self.opens

    def item(self, item_id: str) -> Item:
        """Return the item with this id, or raise KeyError."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


class Responder(_Model):
    """The responder rule, e.g. ``pain >= 30 and (fatigue >= 30 or sleep >= 30)``.

    Each number is a percent improvement from baseline, signed so that positive is better.
    """

    rule: Text


class Analysis(_Model):
    """Which days the statistics use."""

    window: Literal["whole_phase", "last_days"] = "whole_phase"
    last_days: Annotated[int, Field(ge=1)] | None = None
    improvement_endpoint: Literal["analysis_window", "final_days"] = "analysis_window"
    final_days: Annotated[int, Field(ge=1)] = 14
    min_completion: Annotated[float, Field(gt=0, le=1)] = 0.7
    clinically_important_difference_pct: Annotated[float, Field(gt=0, le=100)] = 30.0


class Pgic(_Model):
    """When the Patient Global Impression of Change is asked."""

    schedule: Literal["end_of_each_treatment_period", "end_of_study", "never"] = (
        "end_of_each_treatment_period"
    )
    question: Text = (
        "Since you started this phase of the study, how would you describe the change "
        "in your overall condition?"
    )


class Randomization(_Model):
    """Permuted blocks of random size, optionally stratified."""

    strata: list[Literal["site", "opioid_use"]] = []
    block_sizes: list[Annotated[int, Field(ge=1, le=1000)]] | None = None


class EligibilityQuestion(_Model):
    """A yes/no eligibility question and the answer that makes a person eligible."""

    id: Slug
    question: Text
    eligible_answer: bool


class PhaseTemplate(_Model):
    """One phase of a sequence's schedule, before it is placed on a calendar."""

    index: int
    kind: Literal["baseline", "treatment", "washout"]
    period: int | None
    arm: str | None
    condition: Condition
    block: int | None
    days: int


class Protocol(_Model):
    """A whole trial protocol, as read from one TOML file."""

    schema_version: Literal[1] = 1
    study: StudyInfo
    blinding: Blinding = Blinding()
    dosing: Dosing
    arms: list[Arm] = Field(min_length=2)
    design: Design
    diary: Diary
    responder: Responder
    analysis: Analysis = Analysis()
    pgic: Pgic = Pgic()
    randomization: Randomization = Randomization()
    eligibility: list[EligibilityQuestion] = []

    def arm(self, arm_id: str) -> Arm:
        """Return the arm with this id, or raise KeyError."""
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        raise KeyError(arm_id)

    @cached_property
    def sequences(self) -> tuple[tuple[str, ...], ...]:
        """Every sequence of arms a participant can be allocated, in a fixed order."""
        design = self.design
        if design.kind == "crossover":
            return tuple(tuple(s) for s in design.sequences or [])
        a, b = self._nof1_arms()
        blocks = design.blocks or 1
        if design.block_order == "randomized_pairs":
            pairs = ((a, b), (b, a))
            return tuple(
                tuple(arm for pair in combo for arm in pair)
                for combo in itertools.product(pairs, repeat=blocks)
            )
        if design.block_order == "ABBA":
            first = tuple((a, b) if k % 2 == 0 else (b, a) for k in range(blocks))
        else:  # ABAB
            first = tuple((a, b) for _ in range(blocks))
        swap = {a: b, b: a}
        one = tuple(arm for pair in first for arm in pair)
        return (one, tuple(swap[arm] for arm in one))

    def _nof1_arms(self) -> tuple[str, str]:
        active = [arm.id for arm in self.arms if arm.role == "active"]
        placebo = [arm.id for arm in self.arms if arm.role == "placebo"]
        return (
            active[0] if active else self.arms[0].id,
            placebo[0] if placebo else self.arms[1].id,
        )

    def sequence_code(self, sequence: tuple[str, ...]) -> str:
        """Letters for a sequence: the first arm is A, the second B, ... e.g. ``AB``."""
        letters = {arm.id: chr(ord("A") + k) for k, arm in enumerate(self.arms)}
        return "".join(letters[arm] for arm in sequence)

    def sequence_from_code(self, code: str) -> tuple[str, ...]:
        """Inverse of :meth:`sequence_code`; raise ValueError for an unknown code."""
        for sequence in self.sequences:
            if self.sequence_code(sequence) == code:
                return sequence
        known = ", ".join(self.sequence_code(s) for s in self.sequences)
        raise ValueError(f"unknown sequence {code!r}; this protocol's sequences are {known}")

    @property
    def periods_per_block(self) -> int:
        return 2 if self.design.kind == "nof1" else len(self.sequences[0])

    def treatment_days_for(self, period: int, arm: str) -> int:
        """Length of treatment period `period` (1-based) when it gives `arm`."""
        days = self.design.treatment_days
        if isinstance(days, int):
            return days
        if isinstance(days, list):
            return days[period - 1]
        return days[arm]

    def condition_of(self, arm: str) -> Condition:
        return "active" if self.arm(arm).role == "active" else "placebo"

    def phase_templates(self, sequence: tuple[str, ...]) -> tuple[PhaseTemplate, ...]:
        """The phases a participant on `sequence` goes through, in order."""
        phases: list[PhaseTemplate] = []
        if self.design.baseline_days > 0:
            phases.append(
                PhaseTemplate(
                    index=0,
                    kind="baseline",
                    period=0,
                    arm=None,
                    condition="baseline",
                    block=None,
                    days=self.design.baseline_days,
                )
            )
        per_block = self.periods_per_block
        for k, arm in enumerate(sequence, start=1):
            if k > 1 and self.design.washout_days > 0:
                phases.append(
                    PhaseTemplate(
                        index=len(phases),
                        kind="washout",
                        period=None,
                        arm=None,
                        condition="washout",
                        block=None,
                        days=self.design.washout_days,
                    )
                )
            phases.append(
                PhaseTemplate(
                    index=len(phases),
                    kind="treatment",
                    period=k,
                    arm=arm,
                    condition=self.condition_of(arm),
                    block=(k - 1) // per_block + 1,
                    days=self.treatment_days_for(k, arm),
                )
            )
        return tuple(phases)

    @property
    def schedule_reveals_allocation(self) -> bool:
        """True when phase lengths differ between sequences, so that dates alone tell the arm.

        The LDN example gives 84 days of LDN and 28 of placebo: whoever sees that period 1
        lasts 84 days knows the participant's sequence.
        """
        shapes = {
            tuple((t.kind, t.days) for t in self.phase_templates(sequence))
            for sequence in self.sequences
        }
        return len(shapes) > 1

    @property
    def block_sizes(self) -> tuple[int, ...]:
        """Allowed randomization block sizes (default: one and two sets of sequences)."""
        n = len(self.sequences)
        sizes = self.randomization.block_sizes
        return tuple(sizes) if sizes else (n, 2 * n)

    @property
    def active_arms(self) -> tuple[Arm, ...]:
        return tuple(arm for arm in self.arms if arm.role == "active")

    @property
    def placebo_arms(self) -> tuple[Arm, ...]:
        return tuple(arm for arm in self.arms if arm.role == "placebo")

    def pgic_periods(self) -> tuple[int, ...]:
        """Treatment periods at whose end the PGIC is asked."""
        n = len(self.sequences[0])
        match self.pgic.schedule:
            case "end_of_each_treatment_period":
                return tuple(range(1, n + 1))
            case "end_of_study":
                return (n,)
            case _:
                return ()
