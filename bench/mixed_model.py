"""Benchmark the REML engine against lme4 / nlme on large diary datasets.

    .venv/bin/python bench/mixed_model.py            # ours; R figures from the stored run
    .venv/bin/python bench/mixed_model.py --with-r   # also time R side by side (~5-10 min)
    .venv/bin/python bench/mixed_model.py --with-r --store   # ... and refresh the stored run

Cases: random intercept (lme4::lmer) at 1,000 and 10,000 participants x 180
days, random intercept + AR(1) (nlme::lme with corAR1) at 1,000 x 180, and
AR(1) at 10,000 x 180 for our engine only (nlme would take hours).  Data: an
AB/BA crossover, two 90-day periods, 10% of nights missing at random,
rho = 0.5.  R runs with its default optimiser settings, as a user would.

The stored R figures live in tests/analysis/fixtures/reml/bench_r_reference.json
together with a fingerprint of the data they were computed on; if the
fingerprint does not match the data generated here, the stored R columns
are not shown.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diarytrial.analysis.mixed import Correlation, MixedModelResult, mixed_model

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "tests" / "analysis" / "fixtures" / "reml" / "bench_r_reference.json"
FIXED = ["active", "period"]

R_SCRIPT = r"""
suppressPackageStartupMessages({library(data.table); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- as.data.frame(fread(args[1]))
engine <- args[2]
if (engine == "lmer") {
  suppressPackageStartupMessages(library(lme4))
  elapsed <- system.time(
    fit <- lmer(y ~ active + period + (1 | id), d, REML = TRUE))[["elapsed"]]
  vc <- as.data.frame(VarCorr(fit))
  out <- list(estimate = unname(fixef(fit)), se = unname(sqrt(diag(as.matrix(vcov(fit))))),
              sigma = sigma(fit), sigma_b = vc$sdcor[vc$grp == "id"], rho = 0,
              loglik = as.numeric(logLik(fit)))
} else {
  suppressPackageStartupMessages(library(nlme))
  elapsed <- system.time(
    fit <- lme(y ~ active + period, d, random = ~1 | id,
               correlation = corAR1(form = ~day | id), method = "REML"))[["elapsed"]]
  tt <- summary(fit)$tTable
  out <- list(estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]),
              sigma = fit$sigma, sigma_b = sqrt(as.numeric(getVarCov(fit)[1, 1])),
              rho = unname(coef(fit$modelStruct$corStruct, unconstrained = FALSE)),
              loglik = as.numeric(logLik(fit)))
}
out$seconds <- elapsed
out$r_version <- R.version.string
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
"""


@dataclass(frozen=True)
class Case:
    name: str
    n_id: int
    correlation: Correlation
    r_engine: str | None  # "lmer", "lme" or None (R not run)


CASES = (
    Case("RI 1,000 x 180", 1_000, "none", "lmer"),
    Case("RI 10,000 x 180", 10_000, "none", "lmer"),
    Case("AR(1) 1,000 x 180", 1_000, "ar1", "lme"),
    Case("AR(1) 10,000 x 180", 10_000, "ar1", None),
)


def make_data(n_id: int, seed: int = 20240611) -> pd.DataFrame:
    """AB/BA crossover, 2 x 90 days, rho 0.5, 10% of nights missing."""
    rng = np.random.default_rng(seed + n_id)
    n_days, rho = 180, 0.5
    z = rng.standard_normal((n_id, n_days))
    e = np.empty_like(z)
    e[:, 0] = z[:, 0]
    for t in range(1, n_days):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1.0 - rho**2) * z[:, t]
    day = np.arange(n_days)
    period = (day >= n_days // 2).astype(float)
    active = np.where((np.arange(n_id) % 2 == 0)[:, None], period, 1.0 - period)
    y = 5.0 + 0.5 * active + 0.3 * period + rng.standard_normal((n_id, 1)) + e
    keep = rng.random((n_id, n_days)) >= 0.10
    ids, days = np.nonzero(keep)
    return pd.DataFrame(
        {
            "id": ids,
            "day": days,
            "active": active[keep],
            "period": np.broadcast_to(period, (n_id, n_days))[keep],
            "y": y[keep],
        }
    )


def fingerprint(data: pd.DataFrame) -> str:
    return f"{len(data)}:{data['y'].sum():.9f}"


def time_ours(data: pd.DataFrame, correlation: Correlation, repeat: int) -> tuple[float, Any]:
    best = np.inf
    fit: MixedModelResult | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        fit = mixed_model(data, outcome="y", fixed=FIXED, group="id", correlation=correlation)
        best = min(best, time.perf_counter() - start)
    return best, fit


def run_r(data: pd.DataFrame, engine: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        script = Path(tmp) / "fit.R"
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        done = subprocess.run(
            ["Rscript", str(script), str(csv), engine],
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def max_rel_diff(fit: MixedModelResult, ref: dict[str, Any]) -> float:
    ours = [*fit.estimate, *fit.se, fit.sigma, fit.sigma_b]
    theirs = [*ref["estimate"], *ref["se"], ref["sigma"], ref["sigma_b"]]
    if fit.correlation == "ar1":
        ours.append(fit.rho)
        theirs.append(ref["rho"])
    a, b = np.array(ours), np.array(theirs)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--with-r", action="store_true", help="time lme4/nlme side by side")
    parser.add_argument("--store", action="store_true", help="save the R figures (--with-r)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats for our engine")
    opts = parser.parse_args()
    if opts.with_r and shutil.which("Rscript") is None:
        print("--with-r: Rscript not found", file=sys.stderr)
        return 2
    stored: dict[str, Any] = json.loads(STORED.read_text()) if STORED.exists() else {}
    fresh: dict[str, Any] = {}
    rows = []
    for case in CASES:
        data = make_data(case.n_id)
        ours, fit = time_ours(data, case.correlation, opts.repeat)
        ref: dict[str, Any] | None = None
        source = "not run"
        if case.r_engine is not None and opts.with_r:
            print(f"running R ({case.r_engine}) on {case.name} ...", file=sys.stderr, flush=True)
            ref = run_r(data, case.r_engine)
            ref["fingerprint"] = fingerprint(data)
            fresh[case.name] = ref
            source = "measured"
        elif case.name in stored:
            if stored[case.name]["fingerprint"] == fingerprint(data):
                ref = stored[case.name]
                source = f"stored {stored.get('_date', '')}".strip()
            else:
                source = "stored run is for other data"
        rows.append(
            {
                "case": case.name,
                "rows": len(data),
                "ours (s)": f"{ours:.3f}",
                "R (s)": f"{ref['seconds']:.1f}" if ref else "-",
                "R figure": source,
                "speed-up": f"{ref['seconds'] / ours:.0f}x" if ref else "-",
                "max rel diff": f"{max_rel_diff(fit, ref):.1e}" if ref else "-",
                "rho": f"{fit.rho:.4f}",
            }
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(
        "\nR: lme4::lmer (RI) / nlme::lme + corAR1 (AR(1)), REML, default settings. "
        "max rel diff over fixed effects, SEs, sigma, sigma_b (and rho)."
    )
    if opts.store and fresh:
        fresh["_date"] = time.strftime("%Y-%m-%d")
        fresh["_note"] = "R timings from bench/mixed_model.py --with-r --store on a 2-core machine"
        STORED.write_text(json.dumps(fresh, indent=2) + "\n")
        print(f"stored R figures in {STORED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
