"""The table of baseline characteristics, per sequence and overall."""

from __future__ import annotations

from diarytrial.analysis.results import TrialResults
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.labels import scale_label, sequence_label
from diarytrial.report.tables.markup import CellLike, html_table


def baseline_table(results: TrialResults, protocol: Protocol) -> str:
    """Baseline characteristics per sequence and overall (``results.baseline``)."""
    frame = results.baseline
    groups = list(dict.fromkeys(str(s) for s in frame["sequence"]))
    size = {
        str(r["sequence"]): int(r["n"])
        for r in frame[frame["characteristic"] == "participants"].to_dict("records")
    }
    head = [
        [
            "Characteristic",
            *(
                f"{'All' if g == 'all' else sequence_label(protocol, g)} (n = {size.get(g, 0)})"
                for g in groups
            ),
        ]
    ]
    items = {f"baseline {i.label.lower()}": i for i in protocol.diary.items}
    body: list[list[CellLike]] = []
    for name in dict.fromkeys(str(c) for c in frame["characteristic"]):
        if name == "participants":
            continue
        chosen = frame[frame["characteristic"] == name]
        rows = chosen.set_index(chosen["sequence"].astype(str))
        if name in items:
            item = items[name]
            label = f"Baseline {item.label.lower()} ({scale_label(item)}), mean (SD)"
        elif name == "age":
            label = "Age, years, mean (SD)"
        else:
            label = f"{name.capitalize()}, n (%)"
        cells: list[CellLike] = [label]
        for g in groups:
            row = rows.loc[g] if g in rows.index else None
            if row is None:
                cells.append(fmt.MISSING)
            elif fmt.is_missing(row["count"]):
                text = fmt.mean_sd(row["mean"], row["sd"])
                n = fmt.integer(row["n"])
                if n != str(size.get(g, 0)):  # not everybody has a value: say how many
                    text += f" [{n}]"
                cells.append(text)
            else:
                cells.append(fmt.count_share(row["count"], row["n"]))
        body.append(cells)
    return html_table(
        "Baseline characteristics by sequence",
        head,
        body,
        notes=[
            "Diary baselines are each participant's mean over the baseline phase, with at least "
            f"{fmt.share(protocol.analysis.min_completion, 0)} of its days completed; [n]: the "
            "participants with such a mean, where fewer than the column's n (for the primary "
            "item, the baseline-mean row of the populations table)."
        ],
    )
