"""The blinded schedule, PGIC periods and sequence codes: pure functions of the protocol."""

from __future__ import annotations

import datetime as dt
import itertools

from tests.builders import make_protocol_text

from diarytrial.exports.blinding import (
    BlindedPhase,
    blinded_schedule,
    blinded_sequence_codes,
)
from diarytrial.protocol import Protocol, load_example, make_schedule, parse_protocol

LDN = load_example("ldn-fibromyalgia").protocol
NOF1 = load_example("nof1-ldn").protocol


def _protocol(old: str, new: str) -> Protocol:
    text = make_protocol_text()
    assert text.count(old) == 1
    return parse_protocol(text.replace(old, new), source="test.toml").protocol


EQUAL = _protocol("treatment_days = { ldn = 84, placebo = 28 }", "treatment_days = 28")


def _shape(phases: tuple[BlindedPhase, ...]) -> list[tuple[object, ...]]:
    return [(p.index, p.kind, p.period, p.block, p.first_day, p.days, p.merged) for p in phases]


def test_phases_that_differ_by_sequence_are_merged_from_the_end_of_baseline() -> None:
    # ldn-placebo: 14 + 84 + 14 + 28; placebo-ldn: 14 + 28 + 14 + 84; both 140 days
    assert _shape(blinded_schedule(LDN)) == [
        (0, "baseline", 0, None, 0, 14, False),
        (1, "treatment", None, None, 14, 126, True),
    ]


def test_phases_alike_under_every_sequence_are_kept() -> None:
    assert _shape(blinded_schedule(EQUAL)) == [
        (0, "baseline", 0, None, 0, 14, False),
        (1, "treatment", 1, 1, 14, 28, False),
        (2, "washout", None, None, 42, 14, False),
        (3, "treatment", 2, 1, 56, 28, False),
    ]
    nof1 = blinded_schedule(NOF1)
    assert [p.period for p in nof1] == [0, 1, 2, 3, 4, 5, 6]
    assert not any(p.merged for p in nof1)


def test_the_blinded_schedule_covers_every_sequences_schedule_exactly() -> None:
    start = dt.date(2026, 3, 2)
    for protocol in (LDN, EQUAL, NOF1):
        blinded = blinded_schedule(protocol)
        for sequence in protocol.sequences:
            schedule = make_schedule(protocol, sequence, start)
            assert blinded[0].start(start) == schedule.start
            assert blinded[-1].end(start) == schedule.end
        for before, after in itertools.pairwise(blinded):
            assert after.first_day == before.first_day + before.days


def test_a_longer_sequence_extends_the_last_merged_phase_to_the_longest_end() -> None:
    # Three periods: ldn-placebo-placebo lasts 7+10+20+20 days, placebo-ldn-ldn 7+20+10+10.
    text = make_protocol_text()
    for old, new in (
        (
            'sequences = [["ldn", "placebo"], ["placebo", "ldn"]]',
            'sequences = [["ldn", "placebo", "placebo"], ["placebo", "ldn", "ldn"]]',
        ),
        ("baseline_days = 14", "baseline_days = 7"),
        ("washout_days = 14", "washout_days = 0"),
        ('washout = "placebo_capsules"', 'washout = "no_capsules"'),  # no washout to fill
        ("final_days = 14", "final_days = 7"),
        (
            "treatment_days = { ldn = 84, placebo = 28 }",
            "treatment_days = { ldn = 10, placebo = 20 }",
        ),
    ):
        text = text.replace(old, new)
    protocol = parse_protocol(text, source="three.toml").protocol

    assert _shape(blinded_schedule(protocol)) == [
        (0, "baseline", 0, None, 0, 7, False),
        (1, "treatment", None, None, 7, 30, True),  # both sequences change phase on day 37
        (2, "treatment", None, None, 37, 20, True),  # to the end of the longer one
    ]


def test_sequence_codes_are_one_per_participant_by_code() -> None:
    codes = blinded_sequence_codes(["P-ZZ9Q", "P-22AB", "P-M3K7", "P-22AB"])

    assert codes == {"P-22AB": "S1", "P-M3K7": "S2", "P-ZZ9Q": "S3"}
    assert blinded_sequence_codes([]) == {}
