"""Reading protocol files: every kind of mistake names the file, the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from diarytrial.cli import main
from diarytrial.protocol import EXAMPLES, ProtocolError, load_example, load_protocol, parse_protocol

LDN = load_example("ldn-fibromyalgia").text


def _problems(text: str) -> list[str]:
    with pytest.raises(ProtocolError) as raised:
        parse_protocol(text, source="trial.toml")
    return [p.describe("trial.toml") for p in raised.value.problems]


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(needle)


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_valid(name: str) -> None:
    loaded = load_example(name)
    assert loaded.protocol.study.id
    assert len(loaded.sha256) == 64


def test_examples_folder_holds_the_shipped_files() -> None:
    root = Path(__file__).resolve().parents[2]
    for name in EXAMPLES:
        assert (root / "examples" / f"{name}.toml").read_text() == load_example(name).text


def test_ldn_design() -> None:
    protocol = load_example("ldn-fibromyalgia").protocol
    assert protocol.sequences == (("ldn", "placebo"), ("placebo", "ldn"))
    assert [i.id for i in protocol.diary.items] == [
        "pain",
        "fatigue",
        "sleep",
        "mood",
        "activity",
        "satisfaction",
    ]
    assert protocol.arm("ldn").dose_mg == {"reduced": 3.0, "standard": 4.5}
    assert protocol.pgic_periods() == (1, 2)


def test_nof1_sequences_randomize_the_order_within_each_block() -> None:
    protocol = load_example("nof1-ldn").protocol
    assert len(protocol.sequences) == 8
    for sequence in protocol.sequences:
        blocks = [sequence[k : k + 2] for k in range(0, 6, 2)]
        assert all(set(block) == {"ldn", "placebo"} for block in blocks)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("ABAB", {"ldn-placebo-ldn-placebo", "placebo-ldn-placebo-ldn"}),
        ("ABBA", {"ldn-placebo-placebo-ldn", "placebo-ldn-ldn-placebo"}),
    ],
)
def test_fixed_nof1_orders(order: str, expected: set[str]) -> None:
    text = (
        load_example("nof1-ldn")
        .text.replace("blocks = 3", "blocks = 2")
        .replace('"randomized_pairs"', f'"{order}"')
    )
    protocol = parse_protocol(text).protocol
    assert {"-".join(s) for s in protocol.sequences} == expected


def test_toml_syntax_error_names_the_line() -> None:
    text = LDN.replace('label = "Study capsule"', 'label = "Study capsule', 1)
    [problem] = _problems(text)
    line = _line_of(text, 'label = "Study capsule')
    assert problem.startswith(f"trial.toml:{line}: not valid TOML:")


def test_unknown_field_names_field_and_line() -> None:
    text = LDN.replace('scale = "slider_0_100"', 'scal = "slider_0_100"', 1)
    problems = _problems(text)
    line = _line_of(text, "scal =")
    expected = f"trial.toml:{line}: diary.items[0].scal: unknown field; check its spelling"
    assert any(p.startswith(expected) for p in problems)
    assert any("diary.items[0].scale: this field is required" in p for p in problems)


def test_wrong_choice_names_the_choices() -> None:
    text = LDN.replace('scale = "slider_0_100"', 'scale = "slider"', 3)
    problems = _problems(text)
    assert len(problems) == 3
    line = _line_of(text, 'scale = "slider"', 3)
    assert problems[2] == (
        f"trial.toml:{line}: diary.items[2].scale: Input should be 'slider_0_100' or 'nrs_0_10' "
        "(found 'slider')"
    )


def test_wrong_type_and_out_of_range() -> None:
    text = LDN.replace("baseline_days = 14", "baseline_days = -1").replace(
        "min_completion = 0.7", 'min_completion = "most"'
    )
    problems = _problems(text)
    assert any(
        "design.baseline_days: Input should be greater than or equal to 0" in p for p in problems
    )
    assert any("analysis.min_completion: Input should be a valid number" in p for p in problems)


def test_bad_clock_time() -> None:
    text = LDN.replace("opens = 18:00:00", 'opens = "6pm"')
    [problem] = _problems(text)
    assert "diary.opens: '6pm' is not a local clock time; write it as HH:MM, e.g. 18:00" in problem


def test_treatment_days_of_the_wrong_shape() -> None:
    text = LDN.replace("treatment_days = { ldn = 84, placebo = 28 }", 'treatment_days = "long"')
    [problem] = _problems(text)
    assert (
        "design.treatment_days: must be a number of days (28), a table of days per arm" in problem
    )


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            '["placebo", "ldn"]]',
            '["placebo", "naltrexone"]]',
            "design.sequences[1]",
            "'naltrexone' is not an arm; the arms are ldn, placebo",
        ),
        (
            'rule = "pain >= 30 and',
            'rule = "pain >= 30 and stiffness >= 30 and',
            "responder.rule",
            "'stiffness' is not a diary item",
        ),
        (
            'rule = "pain >= 30 and (fatigue',
            'rule = "pain >= 30 and ((fatigue',
            "responder.rule",
            "a bracket is not closed",
        ),
        ('rule = "pain >= 30', 'rule = "pain > 30', "responder.rule", "write 'pain >= <percent>'"),
        (
            'start_level = "standard"',
            'start_level = "high"',
            "dosing.start_level",
            "'high' is not one of the dose levels (reduced, standard)",
        ),
        (
            'reduced_level = "reduced"',
            'reduced_level = "standard"',
            "dosing.reduced_level",
            "the reduced level must come before the start level",
        ),
        (
            "dose_mg = { reduced = 3.0, standard = 4.5 }",
            "dose_mg = { standard = 4.5 }",
            "arms[0].dose_mg",
            "give the content of every dose level in [dosing] levels "
            "(missing: reduced; not a level: none)",
        ),
        (
            "dose_mg = { reduced = 0.0, standard = 0.0 }",
            "dose_mg = { reduced = 0.0, standard = 1.0 }",
            "arms[1].dose_mg",
            "a placebo arm contains 0 mg at every dose level",
        ),
        ('role = "placebo"', 'role = "active"', "arms", 'no arm has role = "placebo"'),
        (
            "block_sizes = [2, 4]",
            "block_sizes = [2, 3]",
            "randomization.block_sizes[1]",
            "a block of 3 cannot hold each of the 2 sequences equally often; use a multiple of 2",
        ),
        (
            "treatment_days = { ldn = 84, placebo = 28 }",
            "treatment_days = { ldn = 84 }",
            "design.treatment_days",
            "give the days of the 'placebo' arm",
        ),
        (
            "treatment_days = { ldn = 84, placebo = 28 }",
            "treatment_days = [84, 28, 28]",
            "design.treatment_days",
            "give one length per treatment period: 2 numbers, not 3",
        ),
        (
            "final_days = 14",
            "final_days = 30",
            "analysis.final_days",
            "30 days is longer than the shortest treatment period (28 days)",
        ),
        (
            'window = "whole_phase"',
            'window = "last_days"',
            "analysis.last_days",
            'window = "last_days" needs last_days = <number>',
        ),
        (
            "closes = 03:00:00",
            "closes = 18:00:00",
            "diary.closes",
            "the window must close at another time than it opens",
        ),
        ('id = "fatigue"', 'id = "pain"', "diary.items[1]", "'pain' is used 2 times"),
        (
            "baseline_days = 14",
            "baseline_days = 0",
            "design.baseline_days",
            "improvement is measured from baseline",
        ),
    ],
)
def test_cross_field_mistakes(old: str, new: str, field: str, message: str) -> None:
    assert old in LDN
    text = LDN.replace(old, new, 1)
    problems = _problems(text)
    matching = [p for p in problems if f": {field}: " in p and message in p]
    assert matching, problems
    line = matching[0].split(":")[1]
    assert line.isdigit(), matching[0]


def test_nof1_mistakes() -> None:
    text = (
        load_example("nof1-ldn")
        .text.replace("blocks = 3\n", "")
        .replace('kind = "nof1"', 'kind = "nof1"\nsequences = [["ldn", "placebo"]]')
    )
    problems = _problems(text)
    assert any("design.blocks: say how many blocks" in p for p in problems)
    assert any("design.sequences: an n-of-1 design derives its sequences" in p for p in problems)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="no such file"):
        load_protocol(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ProtocolError, match="not UTF-8"):
        load_protocol(binary)


def test_check_command_prints_the_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "ldn-fibromyalgia.toml"
    assert main(["protocol", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Sequence AB: ldn then placebo" in out
    assert "15-98" in out  # the LDN period of the drug-first sequence
    assert "18:00 to 03:00 next morning" in out
    # The periods differ by sequence (LDN 84 days, placebo 28); the visits do not.
    assert "Visit calendar" in out
    assert "99-126" in out  # the kit of visit 5, whatever the sequence
    assert "washout: placebo" in out
    assert "not blind" not in out


def test_check_command_warns_when_the_visit_calendar_cannot_be_blind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "open-washout.toml"
    path.write_text(LDN.replace('washout = "placebo_capsules"', 'washout = "no_capsules"'))
    assert main(["protocol", "check", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the visit calendar is not blind" in out
    assert '[blinding] washout = "placebo_capsules"' in out


def test_check_command_reports_problems_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(LDN.replace('scale = "slider_0_100"', 'scale = "slider"', 1))
    assert main(["protocol", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert f"{path}:{_line_of(path.read_text(), 'scale = ')}: diary.items[0].scale" in captured.err


def test_target_enrolment_is_optional_and_a_positive_whole_number() -> None:
    assert load_example("ldn-fibromyalgia").protocol.study.target_enrolment == 30
    assert load_example("nof1-ldn").protocol.study.target_enrolment is None
    for bad, message in (
        ("0", "greater than or equal to 1"),
        ("2.5", "valid integer"),
        ('"thirty"', "valid integer"),
    ):
        text = LDN.replace("target_enrolment = 30", f"target_enrolment = {bad}")
        problems = _problems(text)
        assert any("study.target_enrolment" in p and message in p for p in problems), problems
