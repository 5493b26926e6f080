"""Assemble the report: the sections in the order of a paper's results, and the footer.

The page is one HTML file with inline CSS (:mod:`~diarytrial.report.style`) and inline SVG, and
nothing that needs the network or JavaScript. Nothing in it depends on the clock, the machine
or dict order, so the same dataset and results always give the same string.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from diarytrial.analysis.results import TrialResults
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.consort import consort_figure
from diarytrial.report.daily import condition_key, daily_series, series_panel
from diarytrial.report.figures import TREATMENTS, pgic_figure, time_course_figure
from diarytrial.report.labels import condition_label, item_label
from diarytrial.report.methods import methods_section, seed_text
from diarytrial.report.nof1 import patient_page, pooled_section
from diarytrial.report.style import CSS
from diarytrial.report.tables import (
    adverse_event_table,
    baseline_table,
    compliance_participant_table,
    compliance_summary_table,
    dose_reduction_table,
    primary_table,
    responder_table,
    secondary_table,
    side_effect_table,
)
from diarytrial.report.tables.blinding import blinding_table
from diarytrial.report.tables.populations import population_n, populations_table

_e = html.escape


def _figure(svg: str, caption: str, *, css_class: str = "") -> str:
    classes = f' class="{css_class}"' if css_class else ""
    return f"<figure{classes}>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


SECTIONS: tuple[tuple[str, str], ...] = (
    ("methods", "Methods"),
    ("flow", "Participant flow"),
    ("baseline", "Baseline characteristics"),
    ("primary", "Primary outcome"),
    ("responders", "Responders and secondary outcomes"),
    ("time-course", "Time course"),
    ("daily", "Daily diaries"),
    ("pgic", "Global impression of change"),
    ("blinding", "Blinding"),
    ("safety", "Side effects, adverse events and dose reductions"),
    ("compliance", "Diary compliance"),
)


def _summary(protocol: Protocol, results: TrialResults) -> str:
    """Three sentences with the main numbers, as an abstract would give them, each with its N."""
    randomized = population_n(results, "randomized") or 0
    withdrawn = population_n(results, "withdrawn") or 0
    primary = item_label(protocol, results.primary_item).lower()
    names = {c: _e(condition_label(protocol, c)) for c in TREATMENTS}
    people = "patient" if protocol.design.kind == "nof1" else "participant"
    text = f"{fmt.plural(randomized, people)} randomized"
    text += f", {withdrawn} withdrew. " if withdrawn else ". "
    comparison = results.comparisons.get(results.primary_item)
    t = comparison.t if comparison is not None else None
    if t is not None:
        text += (
            f"In the {t.n} with a percent improvement on both conditions (paired population), "
            f"{_e(primary)} improved from baseline by {fmt.percent(t.mean_a)} on "
            f"{names['active']} and by {fmt.percent(t.mean_b)} on {names['placebo']} "
            f"(difference {fmt.estimate_with_interval(t.mean_difference, t.ci_low, t.ci_high)}"
            f" points; paired t-test {fmt.p_statement(t.p)})."
        )
    contrast = results.primary.get(results.primary_item)
    if contrast is not None:
        who = (
            f"the {people}'s daily {_e(primary)}"
            if contrast.n_participants == 1
            else f"daily {_e(primary)} in the {contrast.n_participants} with a diary value on a "
            "treatment day (mixed-model population)"
        )
        text += (
            f" The {'model' if contrast.n_participants == 1 else 'mixed model'} of {who} gave "
            "active − placebo "
            f"{fmt.estimate_with_interval(contrast.estimate, contrast.ci_low, contrast.ci_high)} "
            f"points ({fmt.p_statement(contrast.p)})."
        )
    rates = {str(r["condition"]): r for r in results.responder_summary.to_dict("records")}
    if {"active", "placebo"} <= set(rates):
        parts = [
            f"{fmt.integer(rates[c]['responders'])} of {fmt.integer(rates[c]['n'])} "
            f"({fmt.share(rates[c]['rate'])}) on {names[c]}"
            for c in TREATMENTS
        ]
        text += f" Responders: {parts[0]} and {parts[1]}"
        test = results.responder_test
        if test is not None:
            text += (
                f" (exact McNemar on the {test.n} assessed under both, {fmt.p_statement(test.p)})"
            )
        text += "."
    text += ' Every N is accounted for in the <a href="#populations">populations table</a>.'
    return f'<p class="summary">{text}</p>'


def _time_course(protocol: Protocol, results: TrialResults) -> str:
    course = results.time_course
    if course.weekly.empty:
        return "<p>No participant has a baseline and a diary value in a treatment week.</p>"
    return _figure(
        time_course_figure(course, protocol),
        _time_course_caption(protocol, results),
    )


def _time_course_caption(protocol: Protocol, results: TrialResults) -> str:
    """What the time-course figure draws: the onset line only where there is an onset."""
    course = results.time_course
    weekly = course.weekly
    threshold = fmt.decimal(course.threshold, 0)
    counts = weekly["n"].astype(int)
    people = (
        f"{int(counts.min())}"
        if int(counts.min()) == int(counts.max())
        else f"{int(counts.min())} to {int(counts.max())}"
    )
    text = (
        f"Mean improvement of {item_label(protocol, results.primary_item).lower()} from "
        "baseline by week of each treatment period, with ±1 standard error; each week's mean is "
        f"over the participants with a baseline mean and at least one diary value that week "
        f"({people} participants a week, of the time-course population). The dashed "
        f"line marks {threshold}% improvement."
    )
    conditions = [c for c in TREATMENTS if c in set(weekly["condition"])]
    if len(conditions) > 1 and all(course.onset_week.get(c) is None for c in conditions):
        return text + (
            f" On neither condition does the mean stay at or above {threshold}% to the end of "
            "the period, so no onset is marked."
        )
    for condition in conditions:
        name = condition_label(protocol, condition)
        week = course.onset_week.get(condition)
        if week is not None:
            text += (
                f" The dotted line marks the onset on {name}, week {week}: the first week from "
                f"which the mean stays at or above {threshold}% to the end of the period."
            )
        else:
            text += (
                f" On {name} the mean does not stay at or above {threshold}% to the end of "
                "the period, so no onset is marked."
            )
    return text


def _pgic(protocol: Protocol, results: TrialResults) -> str:
    if results.pgic.empty or int(results.pgic["n"].max()) == 0:
        return "<p>No answer to the Patient Global Impression of Change was recorded.</p>"
    return _figure(
        pgic_figure(results.pgic, protocol),
        "Patient Global Impression of Change at the end of each treatment period, by "
        "condition; numbers in the bars are answers, n the participants who answered at the "
        "end of a period on that condition (populations table).",
    ) + _pgic_text(protocol, results)


def _pgic_text(protocol: Protocol, results: TrialResults) -> str:
    c = results.pgic_comparison
    names = {k: _e(condition_label(protocol, k)) for k in TREATMENTS}
    if c.pairs == 0:
        return "<p>No participant answered the PGIC under both conditions.</p>"
    return (
        f"<p>Among the {c.pairs} participants who answered under both conditions (PGIC pairs), "
        f"{c.improved_active} were much or very much improved on {names['active']} and "
        f"{c.improved_placebo} on {names['placebo']} ({c.only_active} only on "
        f"{names['active']}, {c.only_placebo} only on {names['placebo']}; exact McNemar "
        f"{fmt.p_statement(c.mcnemar_p)}). Median score {fmt.decimal(c.median_active)} on "
        f"{names['active']} and {fmt.decimal(c.median_placebo)} on {names['placebo']} (1 = very "
        f"much improved); Wilcoxon signed-rank {fmt.p_statement(c.wilcoxon_p)}, Hodges-Lehmann "
        f"difference {fmt.estimate_with_interval(c.pseudomedian, c.ci_low, c.ci_high)}.</p>"
    )


def _daily(dataset: TrialDataset, results: TrialResults) -> str:
    protocol = dataset.protocol.protocol
    item = protocol.diary.item(results.primary_item)
    series = daily_series(dataset, item.id)
    if not series:
        return "<p>No participant has diary data.</p>"
    last_day = max(max(p.last for p in s.phases) for s in series)
    conditions = [
        c
        for c in ("baseline", "active", "placebo", "washout")
        if any(p.condition == c for s in series for p in s.phases)
    ]
    panels = "".join(
        series_panel(s, protocol=protocol, item=item, last_day=last_day) for s in series
    )
    body = (
        condition_key(protocol, conditions, with_block=False)
        + f'<div class="panels">{panels}</div>'
    )
    caption = (
        f"Daily {item.label.lower()} of every participant ({item.lowest}-{item.highest}, "
        f"{'lower' if item.direction == 'higher_is_worse' else 'higher'} is better) by study day "
        "(the x axis: days since the participant's first day on study, day 0, the same in "
        "every panel), phases shaded by condition; panels ordered by sequence (in brackets) and "
        "participant. Gaps are days without a diary entry. All randomized participants."
    )
    return _figure(body, caption, css_class="small-multiples")


def _nof1_section(dataset: TrialDataset, results: TrialResults) -> str:
    if results.nof1 is None or results.nof1.empty:
        return _section("nof1", "n-of-1 results", "<p>No patient has two usable blocks.</p>")
    protocol = dataset.protocol.protocol
    series = {s.participant_id: s for s in daily_series(dataset, results.primary_item)}
    pages = "".join(
        patient_page(
            dataset,
            results,
            effect,
            series.get(str(effect["participant_id"])),
            figure=_figure,
        )
        for _, effect in results.nof1.iterrows()
    )
    intro = (
        f"<p>One page per patient, following the CENT 2015 statement (Vohra et al., BMJ "
        f"2015;350:h1738). Primary item: {_e(item_label(protocol, results.primary_item).lower())}"
        "; the benefit of a block is the improvement on active minus that on placebo.</p>"
    )
    reported = set(results.nof1["participant_id"].astype(str))
    missing = sorted(set(series) - reported)
    if missing:
        intro += (
            f"<p>No page for {_e(', '.join(missing))}: no block had enough completed diary days "
            "in both of its periods.</p>"
        )
    return (
        '<section id="nof1"><h2>n-of-1 results per patient</h2>'
        + intro
        + pages
        + pooled_section(results.nof1_pooled)
        + "</section>"
    )


def _modified_notice(modified_files: Sequence[str]) -> str:
    """In words, at the top of the report: the data were modified after export."""
    if not modified_files:
        return ""
    names = ", ".join(modified_files)
    verb = "no longer matches" if len(modified_files) == 1 else "no longer match"
    return (
        '<p class="modified"><strong>The data were modified after export.</strong> '
        f"{_e(names)} {verb} the hash that the dataset's datapackage.json records, so these "
        "results are not those of the dataset as it was exported. The dataset sha256 at the "
        "end of this report covers the files as analysed.</p>"
    )


def _footer(results: TrialResults, dataset_hash: str, modified_files: Sequence[str]) -> str:
    rows = [
        ("Seed", seed_text(results.provenance)),
        ("Code version", f"diarytrial {results.code_version}"),
        ("Dataset sha256", dataset_hash),
        ("Protocol sha256", results.protocol_sha256),
    ]
    if modified_files:
        rows.append(("Data", f"modified after export: {', '.join(modified_files)}"))
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    return (
        f"<footer><dl>{items}</dl><p>Made by <code>diarytrial report</code>. The same dataset "
        "and code version always give this file byte for byte; it holds no date, so check the "
        "hashes above to know which data it shows. The dataset sha256 covers every file of the "
        "dataset folder (docs/dataset.md).</p></footer>"
    )


def render_report(
    dataset: TrialDataset,
    results: TrialResults,
    *,
    dataset_hash: str,
    modified_files: Sequence[str] = (),
) -> str:
    """The whole results report as one self-contained HTML document.

    `results` must come from ``analyze_trial(dataset)``; `dataset_hash` identifies the data
    (``dataset.files.sha256`` of a dataset read from a folder) and is printed in the footer with
    the seed, the code version and the protocol's sha256. `modified_files` names the files that
    changed after the dataset was written (``dataset.files.modified``): the report then says at
    its top and in its footer that the data were modified after export.
    """
    protocol = dataset.protocol.protocol
    nof1 = protocol.design.kind == "nof1"
    body = _body(dataset, results)
    if nof1:
        body.append(_nof1_section(dataset, results))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="diarytrial {_e(results.code_version)}">'
        f"<title>{_e(results.title)}: results</title><style>{CSS}</style></head>"
        f"<body>{_header(protocol, results, modified_files)}<main>{''.join(body)}</main>"
        f"{_footer(results, dataset_hash, modified_files)}</body></html>\n"
    )


def _header(protocol: Protocol, results: TrialResults, modified_files: Sequence[str]) -> str:
    """Title, the line of study facts, the modified-data notice, the summary and the contents."""
    nof1 = protocol.design.kind == "nof1"
    sections = list(SECTIONS) + ([("nof1", "n-of-1 results per patient")] if nof1 else [])
    design = "n-of-1 trial" if nof1 else "crossover trial"
    return (
        f"<header><h1>{_e(results.title)}</h1>"
        f'<p class="meta">Results report · study {_e(results.study_id)} · {design} · '
        f"primary outcome: {_e(item_label(protocol, results.primary_item).lower())}</p>"
        + _modified_notice(modified_files)
        + _summary(protocol, results)
        + "<nav><ol>"
        + "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t in sections)
        + "</ol></nav></header>"
    )


def _body(dataset: TrialDataset, results: TrialResults) -> list[str]:
    """The sections every design has, in the order of SECTIONS."""
    protocol = dataset.protocol.protocol
    sequences = dict(
        zip(
            dataset.participants["participant_id"].astype(str),
            dataset.participants["sequence"].astype(object).fillna("").astype(str),
            strict=True,
        )
    )
    return [
        _section("methods", "Methods", methods_section(protocol, results)),
        _section(
            "flow",
            "Participant flow",
            _figure(
                consort_figure(
                    results.flow, protocol, dataset.participants, populations=results.populations
                ),
                "Participant flow, after the CONSORT 2010 extension to randomised crossover "
                "trials. Analysed: the participants of each analysis of the primary item, as "
                "defined in the populations table below.",
            )
            + f'<div id="populations">{populations_table(results, protocol)}</div>',
        ),
        _section("baseline", "Baseline characteristics", baseline_table(results, protocol)),
        _section("primary", "Primary outcome", primary_table(results, protocol)),
        _section(
            "responders",
            "Responders and secondary outcomes",
            responder_table(results, protocol) + secondary_table(results, protocol),
        ),
        _section("time-course", "Time course", _time_course(protocol, results)),
        _section("daily", "Daily diaries", _daily(dataset, results)),
        _section("pgic", "Global impression of change", _pgic(protocol, results)),
        _section("blinding", "Blinding", blinding_table(results, protocol)),
        _section(
            "safety",
            "Side effects, adverse events and dose reductions",
            side_effect_table(results, protocol)
            + adverse_event_table(results, protocol)
            + dose_reduction_table(results, protocol),
        ),
        _section(
            "compliance",
            "Diary compliance",
            compliance_summary_table(results, protocol)
            + compliance_participant_table(results, protocol, sequences),
        ),
    ]


def write_report(
    dataset: TrialDataset,
    results: TrialResults,
    path: str | Path,
    *,
    dataset_hash: str,
    modified_files: Sequence[str] = (),
) -> Path:
    """Render the report and write it to `path` as UTF-8 (folders created); return the path."""
    target = Path(path)
    page = render_report(dataset, results, dataset_hash=dataset_hash, modified_files=modified_files)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Bytes, not text mode: no platform newline translation, so the file is the same anywhere.
    target.write_bytes(page.encode("utf-8"))
    return target
