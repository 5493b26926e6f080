"""The report as a careful reader reads it: every N accounted for, captions that say what is
drawn, scales on every axis, the seed of the data, labelled cells and finite rate ratios."""

from __future__ import annotations

import dataclasses
import re

import pytest
from tests.report.conftest import HASH, Rendered

from diarytrial.analysis.timecourse import TimeCourse
from diarytrial.dataset import TrialDataset
from diarytrial.report import render_report
from diarytrial.report.daily import day_ticks


def _section(page: str, anchor: str) -> str:
    return page.split(f'<section id="{anchor}">')[1].split("</section>")[0]


def _n(rendered: Rendered, population: str, sequence: str = "all") -> int:
    frame = rendered.results.populations
    chosen = frame[(frame["population"] == population) & (frame["sequence"] == sequence)]
    return int(chosen["n"].item())


def test_every_n_of_the_analysis_is_a_population(ldn: Rendered) -> None:
    results = ldn.results
    flow = results.flow
    assert _n(ldn, "randomized") == int(flow.loc[flow["stage"] == "randomized", "n"].sum())
    assert _n(ldn, "phase means every condition") == int(
        flow.loc[flow["stage"] == "analysed", "n"].sum()
    )
    summary = results.improvement_summary
    pain = summary[summary["item"] == results.primary_item].set_index("condition")["n"]
    assert _n(ldn, "improvement active") == int(pain["active"])
    assert _n(ldn, "improvement placebo") == int(pain["placebo"])
    t = results.comparisons[results.primary_item].t
    assert t is not None
    assert _n(ldn, "paired") == t.n
    assert _n(ldn, "mixed model") == results.primary[results.primary_item].n_participants
    assert results.responder_test is not None
    assert _n(ldn, "responder pairs") == results.responder_test.n
    assert _n(ldn, "pgic pairs") == results.pgic_comparison.pairs
    assert _n(ldn, "time course") == results.time_course.participants["participant_id"].nunique()
    # Each sequence's counts add up to the whole.
    frame = results.populations
    for population, rows in frame.groupby("population"):
        by_sequence = rows[rows["sequence"] != "all"]["n"].sum()
        assert by_sequence == int(rows[rows["sequence"] == "all"]["n"].item()), population
    # The Ns of the LDN trial differ, which is why the table is needed.
    assert len({_n(ldn, "paired"), _n(ldn, "mixed model"), _n(ldn, "improvement active")}) > 1


def test_the_populations_table_and_the_text_give_the_same_numbers(ldn: Rendered) -> None:
    flow = _section(ldn.html, "flow")
    assert "Populations: who is counted in each analysis" in flow
    paired, mixed = _n(ldn, "paired"), _n(ldn, "mixed model")
    assert re.search(rf"Paired population</strong>.*?<td class=\"num\">{paired}</td>", flow)
    summary = ldn.html.split('<p class="summary">')[1].split("</p>")[0]
    assert f"In the {paired} with a percent improvement on both conditions (paired " in summary
    assert f"in the {mixed} with a diary value on a treatment day (mixed-model population)" in (
        summary
    )
    assert '<a href="#populations">' in summary
    assert " analysed." not in summary  # no bare "analysed" with no population named
    primary = _section(ldn.html, "primary")
    assert f"(paired population, {paired} participants)" in primary
    assert f"(mixed-model population, {mixed})" in primary
    # The flow diagram's analysis boxes name the analyses, each with its n per sequence.
    for code in ("ldn-placebo", "placebo-ldn"):
        assert f"mixed model: n = {_n(ldn, 'mixed model', code)}" in flow
        assert f"paired tests: n = {_n(ldn, 'paired', code)}" in flow


def test_the_time_course_caption_says_what_is_drawn(ldn: Rendered) -> None:
    course = ldn.results.time_course
    assert course.onset_week == {"active": None, "placebo": None}
    caption = _section(ldn.html, "time-course").split("<figcaption>")[1]
    assert "dotted line" not in caption
    assert "so no onset is marked" in caption
    assert "onset (" not in _section(ldn.html, "time-course")
    # With an onset, the line is drawn and the caption says where.
    with_onset = TimeCourse(
        item=course.item,
        threshold=course.threshold,
        weekly=course.weekly,
        participants=course.participants,
        onset_week={"active": 6, "placebo": None},
    )
    results = dataclasses.replace(ldn.results, time_course=with_onset)
    section = _section(render_report(ldn.dataset, results, dataset_hash=HASH), "time-course")
    assert "onset (Low-dose naltrexone): week 6" in section
    assert "The dotted line marks the onset on Low-dose naltrexone, week 6" in section
    assert "On Placebo the mean does not stay at or above 30%" in section


def test_every_daily_panel_has_a_day_scale(ldn: Rendered) -> None:
    panels = re.findall(r'<svg[^>]*class="panel".*?</svg>', ldn.html)
    assert len(panels) == len(ldn.dataset.participants)
    last_day = 14 + 84 + 14 + 28 - 1
    ticks = day_ticks(last_day)
    assert ticks == [0, 28, 56, 84, 112]
    for panel in panels:
        labels = re.findall(r'text-anchor="middle"[^>]*>(\d+)</text>', panel)
        assert labels == [str(t) for t in ticks]
    assert "by study day (the x axis" in _section(ldn.html, "daily")


def test_methods_give_the_seed_of_the_data(ldn: Rendered) -> None:
    assert "random seed 2013" in _section(ldn.html, "methods")
    exported = {
        "generator": "diarytrial export",
        "study": "ldn_fibromyalgia",
        "protocol_version": 1,
        "database_lock": {"locked_at": "2026-02-12T20:00:00+00:00"},
    }
    demo = {**exported, "simulation": {"generator": "diarytrial demo", "seed": 2013}}
    for provenance, seed, words in (
        (demo, "2013", "simulated by diarytrial demo"),
        (exported, "none: collected data", "exported from the live trial system"),
    ):
        dataset = TrialDataset(**{**ldn.dataset.__dict__, "provenance": provenance})
        results = dataclasses.replace(ldn.results, provenance=provenance)
        page = render_report(dataset, results, dataset_hash=HASH)
        methods = _section(page, "methods")
        assert words in methods
        assert "database locked 2026-02-12" in methods
        assert "not recorded" not in page
        assert f"<dt>Seed</dt><dd>{seed}</dd>" in page
    assert "random seed 2013" in _section(
        render_report(
            TrialDataset(**{**ldn.dataset.__dict__, "provenance": demo}),
            dataclasses.replace(ldn.results, provenance=demo),
            dataset_hash=HASH,
        ),
        "methods",
    )


def test_side_effect_cells_give_participants_and_days_apart(ldn: Rendered) -> None:
    table = _section(ldn.html, "safety").split("</table>")[0]
    assert table.count("Participants, n (%)") == table.count("Days, %") >= 3
    frame = ldn.results.side_effects
    row = frame[(frame["side_effect"] == frame["side_effect"].iloc[0])].set_index("condition")
    active = row.loc["active"]
    share = 100 * int(active["participants"]) / int(active["exposed"])
    assert f"{int(active['participants'])} ({share:.1f}%)" in table
    assert f"{100 * float(active['share_of_days']):.1f}%" in table


def test_rate_ratios_are_finite_when_a_condition_has_no_event(ldn: Rendered) -> None:
    frame = ldn.results.adverse_events
    active = frame[frame["condition"] == "active"]
    placebo = frame[frame["condition"] == "placebo"].set_index("term")["events"]
    zero = active[(active["events"] > 0) & (active["term"].map(placebo) == 0)]
    assert len(zero) > 0  # the LDN trial has terms with no event on placebo
    assert (zero["rate_ratio_corrected"] > 0).all()
    assert (zero["rate_ratio_corrected_ci_high"] < float("inf")).all()
    table = _section(ldn.html, "safety").split("<table")[2]
    assert "∞" not in table
    assert table.count(")†<br>") == len(zero)
    for row in zero.to_dict("records"):
        # R: poisson.test(c(x_a, 0), c(T_a, T_p))$conf.int[1], the exact lower limit
        assert f"exact lower limit {row['rate_ratio_ci_low']:.2f}" in table
    assert "Haldane-Anscombe" in table


@pytest.mark.parametrize(("last", "ticks"), [(0, [0]), (6, [0]), (139, [0, 28, 56, 84, 112])])
def test_day_ticks(last: int, ticks: list[int]) -> None:
    assert day_ticks(last) == ticks
