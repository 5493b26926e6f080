"""The rendered report: self-contained, complete, escaped, stamped and deterministic."""

from __future__ import annotations

import re

import pandas as pd
from tests.report.conftest import HASH, Rendered

from diarytrial.analysis.nof1_pooled import PooledEffects
from diarytrial.analysis.results import analyze_trial
from diarytrial.dataset import TrialDataset
from diarytrial.protocol import load_example
from diarytrial.report import format as fmt
from diarytrial.report import render_report
from diarytrial.report.document import SECTIONS
from diarytrial.simulate import simulate_trial


def test_report_is_self_contained(ldn: Rendered) -> None:
    page = ldn.html
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page  # no JavaScript at all
    assert "<link" not in page  # no external stylesheet
    assert not re.search(r'\b(src|href)\s*=\s*"(https?:)?//', page)
    assert "@import" not in page
    assert "url(" not in page  # no fonts or images fetched from the CSS
    # Every link is an anchor to an element of the page: the sections and the populations table.
    anchors = {f"#{a}" for a in re.findall(r'\bid="([^"]*)"', page)}
    assert {f"#{a}" for a, _ in SECTIONS} <= anchors
    assert set(re.findall(r'href="([^"]*)"', page)) <= anchors
    assert "#populations" in set(re.findall(r'href="([^"]*)"', page))


def test_report_prints_on_a4(ldn: Rendered) -> None:
    assert re.search(r"@page \{\s*size: A4;", ldn.html)
    assert "break-inside: avoid" in ldn.html


def test_every_section_is_there(ldn: Rendered) -> None:
    for anchor, title in SECTIONS:
        assert f'<section id="{anchor}"><h2>{title}</h2>' in ldn.html
    for table in (
        "Baseline characteristics by sequence",
        "Primary outcome: pain",
        "Responders by condition",
        "Secondary outcomes",
        "Side effects reported in the nightly diary",
        "Adverse events",
        "Dose reductions",
        "Diary compliance",
        "Diary compliance per participant and phase",
    ):
        assert f"<caption>{table}</caption>" in ldn.html
    assert 'id="nof1"' not in ldn.html  # a crossover has no per-patient pages


def test_methods_are_written_from_the_protocol(ldn: Rendered) -> None:
    methods = ldn.html.split('<section id="methods">')[1].split("</section>")[0]
    for phrase in (
        "crossover",
        "14-day baseline",
        "84 days on Low-dose naltrexone and 28 days on Placebo",
        "14-day washout",
        "18:00 and 03:00 the next morning",
        "Worst pain imaginable",
        "final 14 days",
        "at least 30% better pain and (at least 30% better fatigue or at least 30% better sleep)",
        "nlme::lme(y ~ active + period, random = ~1 | id, correlation = corAR1(form = ~day | id)",
        "paired t-test",
        "Wilcoxon signed-rank",
        "exact McNemar",
        "random seed 2013",
    ):
        assert phrase in methods, phrase


def test_each_figure_is_an_svg_with_content(ldn: Rendered) -> None:
    figures = re.findall(r"<figure[^>]*>(.*?)</figure>", ldn.html, flags=re.S)
    assert len(figures) == 4  # flow, time course, daily diaries, PGIC
    for figure in figures:
        drawings = re.findall(r"<svg [^>]*>(.*?)</svg>", figure, flags=re.S)
        assert drawings
        for drawing in drawings:
            assert "<title>" in drawing
            assert re.search(r"<(rect|line|polyline|path|circle|text)\b", drawing)
    participants = len(ldn.dataset.participants)
    assert ldn.html.count('class="panel"') == participants  # one small multiple each


def test_numbers_are_formatted_for_people(ldn: Rendered) -> None:
    primary = ldn.html.split('<section id="primary">')[1].split("</section>")[0]
    summary = ldn.results.improvement_summary
    active = summary[(summary["item"] == "pain") & (summary["condition"] == "active")].iloc[0]
    assert f"{active['mean']:.1f} ({active['sd']:.1f}) [{int(active['n'])}]" in primary
    contrast = ldn.results.primary["pain"]
    low, high = (f"{v:.1f}".replace("-", "−") for v in (contrast.ci_low, contrast.ci_high))
    assert f"{low} to {high}" in primary
    assert "nan" not in ldn.html.lower().replace("naltrexone", "")
    assert not re.search(r"\d\.\d{4,}", re.sub(r"<svg.*?</svg>", "", ldn.html, flags=re.S))


def test_footer_states_seed_version_and_hashes(ldn: Rendered) -> None:
    footer = ldn.html.split("<footer>")[1]
    assert "<dt>Seed</dt><dd>2013</dd>" in footer
    assert f"diarytrial {ldn.results.code_version}" in footer
    assert HASH in footer
    assert ldn.dataset.protocol.sha256 in footer


def test_footer_says_when_the_seed_is_not_recorded(ldn: Rendered) -> None:
    dataset = TrialDataset(
        **{**ldn.dataset.__dict__, "provenance": {"generator": "an import"}},
    )
    results = ldn.results.__class__(**{**ldn.results.__dict__, "provenance": {}})
    page = render_report(dataset, results, dataset_hash=HASH)
    assert "<dt>Seed</dt><dd>not recorded</dd>" in page


def test_rendering_twice_gives_the_same_string(ldn: Rendered) -> None:
    again = render_report(ldn.dataset, ldn.results, dataset_hash=HASH)
    assert again == ldn.html


def test_participant_ids_and_protocol_text_are_escaped() -> None:
    dataset = simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=5)
    ids = sorted(dataset.participants["participant_id"].astype(str))
    hostile = {pid: f'<b class="x">{pid}</b>&' for pid in ids}
    tables = {}
    for name in (
        "participants",
        "periods",
        "diary",
        "side_effects",
        "doses",
        "adverse_events",
        "pgic",
    ):
        frame = getattr(dataset, name).copy()
        frame["participant_id"] = frame["participant_id"].astype(str).map(hostile)
        tables[name] = frame
    text = dataset.protocol.text.replace('label = "Pain"', 'label = "Pain <i>&</i>"')
    protocol = dataset.protocol.__class__(
        protocol=dataset.protocol.protocol.model_copy(
            update={
                "diary": dataset.protocol.protocol.diary.model_copy(
                    update={
                        "items": [
                            dataset.protocol.protocol.diary.items[0].model_copy(
                                update={"label": "Pain <i>&</i>"}
                            ),
                            *dataset.protocol.protocol.diary.items[1:],
                        ]
                    }
                )
            }
        ),
        text=text,
        source=dataset.protocol.source,
    )
    renamed = TrialDataset(protocol=protocol, provenance=dataset.provenance, **tables)
    page = render_report(renamed, analyze_trial(renamed), dataset_hash=HASH)
    assert '<b class="x">' not in page
    assert "&lt;b class=&quot;x&quot;&gt;" in page
    assert "<i>&</i>" not in page
    assert "Pain &lt;i&gt;&amp;&lt;/i&gt;" in page


def test_n_of_1_report_has_a_page_per_patient(nof1: Rendered) -> None:
    page = nof1.html
    assert '<section id="nof1">' in page
    effects = nof1.results.nof1
    assert isinstance(effects, pd.DataFrame)
    patient = str(effects["participant_id"].iloc[0])
    section = page.split(f'<section class="patient" id="patient-{patient}">')[1]
    assert "CENT 2015" in page
    assert f"Blocks of patient {patient}: order of treatments and results" in section
    blocks = nof1.results.nof1_blocks
    assert isinstance(blocks, pd.DataFrame)
    assert section.count('<tr><th scope="row">') >= len(blocks)
    assert "clinically important difference of 30 points" in section
    assert "95% CI" in section
    assert section.count("<svg ") == 3  # key, daily series, benefit per block
    assert "nlme::gls(y ~ active + block" in page


def test_design_wording_follows_the_protocol(nof1: Rendered) -> None:
    assert "An n-of-1 trial" in nof1.html
    assert "3 blocks of two treatment periods of 14 days each" in nof1.html


def test_a_series_of_n_of_1_trials_is_reported_pooled(nof1_series: Rendered) -> None:
    pooled = nof1_series.results.nof1_pooled
    assert isinstance(pooled, PooledEffects)
    section = nof1_series.html.split("<h3>The series, pooled</h3>")[1].split("</table>")[0]

    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)
    for row in pooled.participants.itertuples():
        line = next(r for r in rows if f">{row.participant_id}<" in r)
        assert fmt.estimate_with_interval(row.posterior_mean, row.ci_low, row.ci_high) in line
        assert f">{fmt.share(row.p_exceeds_cid)}<" in line
    assert "All patients (population mean)" in section
    assert f">{fmt.decimal(pooled.population.mean)} (" in section
    assert "A new patient like these" in section
    assert "without sampling" in section


def test_a_single_n_of_1_trial_says_why_it_is_not_pooled(nof1: Rendered) -> None:
    assert "<h3>The series, pooled</h3><p>The patients' trials are not pooled: pooling needs 3" in (
        nof1.html
    )
