"""`diarytrial demo`: the main job, run end to end on the shipped LDN example.

It creates the demo study in a database of its own (SQLite in the output folder, made anew on
each run), runs the simulated participants through the live system's services, locks,
unblinds and exports the trial dataset (also in every format of `diarytrial.interop.formats`),
analyses it, writes the results report, and then
serves the web app with one account per role (unless ``--no-serve``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from rich.console import Console

from diarytrial.analysis.results import TrialResults
from diarytrial.report.format import p_statement

DEMO_PARTICIPANTS = 31  # as randomized in the published trial
DEMO_SEED = 2013
ADDRESS = "127.0.0.1:8000"
DATABASE_FILE = "demo.sqlite3"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "demo",
        help="run the LDN trial through the live system, analyse it, report, serve the app",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/demo"), help="output folder (default: out/demo)"
    )
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="simulation seed")
    parser.add_argument(
        "--participants", type=int, default=DEMO_PARTICIPANTS, help="participants to randomize"
    )
    parser.add_argument(
        "--no-serve", action="store_true", help="stop after the report instead of serving"
    )
    parser.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    """Run the demo; print what was done, where the files are and how to sign in."""
    console = Console(highlight=False)
    started = time.perf_counter()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    database = out / DATABASE_FILE
    for leftover in out.glob(f"{DATABASE_FILE}*"):
        leftover.unlink()
    os.environ.update(demo_environment(out))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diarytrial.web.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from django.urls import reverse

    from diarytrial.analysis.results import analyze_trial
    from diarytrial.dataset import read_dataset, write_dataset
    from diarytrial.demo.live import run_live_demo
    from diarytrial.interop.formats import FORMATS, convert
    from diarytrial.report import write_report

    console.print("[bold]diarytrial demo[/]: the LDN fibromyalgia trial, through the live system")
    live = run_live_demo(participants=args.participants, seed=args.seed, log=lambda line: None)
    people = live.dataset.participants
    withdrawn = int((people["status"].astype(str) == "withdrawn").sum())
    console.print(
        f"1. Ran {len(people)} participants (seed {args.seed}) through the services: "
        f"{len(people) - withdrawn} completed, {withdrawn} withdrew; {live.entries:,} nightly "
        "entries; then locked the database, unblinded and exported."
    )
    folder = out / "dataset"
    write_dataset(live.dataset, folder)
    console.print(f"   Trial dataset: {folder}")
    formats = out / "formats"
    for key in FORMATS:
        shutil.rmtree(formats / key, ignore_errors=True)
        convert(live.dataset, key, formats / key)
    console.print(f"   The same in other formats: {formats}/{{{','.join(FORMATS)}}}")
    # The analysis reads the dataset back from disk, as it would read any trial's export.
    dataset = read_dataset(folder)
    results = analyze_trial(dataset)
    console.print("2. Analysed it:")
    for line in headline(results):
        console.print(f"   {line}")
    files = dataset.files
    dataset_hash = files.sha256 if files is not None else ""
    report = write_report(dataset, results, out / "report.html", dataset_hash=dataset_hash)
    console.print(f"3. Results report: {report}")
    console.print(f"   open it in a browser: file://{report}")
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")
    console.print(f"4. The web app: http://{ADDRESS}/ (database {database}); sign in as")
    for login in live.logins:
        console.print(f"   {login.role:<14} {login.username:<14} password {login.password}")
    tryout = live.tryout
    enrol = reverse("phone:enrol", args=[tryout.token])
    console.print(
        f"5. The participant's phone diary: {tryout.participant_code} of the open try-out "
        f"study {tryout.study_slug} (time zone {tryout.timezone}: the diary window is open "
        f"now). Open this link in a phone-sized browser window to set it up as their phone:"
    )
    console.print(f"   http://{ADDRESS}{enrol}", soft_wrap=True)
    if args.no_serve:
        console.print(
            f"   To serve it: DATABASE_URL=sqlite:///{database} DEBUG=false "
            ".venv/bin/diarytrial runserver --insecure"
        )
        return 0
    console.print("   Serving; stop with Ctrl-C.")
    serve(ADDRESS)
    return 0


def demo_environment(out: Path) -> dict[str, str]:
    """The variables the demo runs and serves under, with its output folder `out`."""
    return {
        # The demo never touches the main database: it gets its own, made anew.
        "DATABASE_URL": f"sqlite:///{out / DATABASE_FILE}",
        # Notifications (serious adverse events, unpleasant side effects) become files to read.
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(out / "mail"),
        # Whoever tries the demo gets the app's own error pages, never Django's debug page
        # (which shows settings, file paths and code).
        "DEBUG": "false",
    }


def serve(address: str) -> None:
    """Serve the web app at `address` until interrupted, with DEBUG off as the demo runs."""
    from django.core.management import call_command

    # With DEBUG off the development server leaves /static/ alone unless told (--insecure);
    # the demo is one local process, with no proxy in front to serve the files.
    call_command("runserver", address, use_reloader=False, insecure_serving=True)


def headline(results: TrialResults) -> list[str]:
    """The published-style headline: pain reduction per condition and responder rates."""
    item = results.primary_item
    summary = results.improvement_summary
    rows = summary[summary["item"] == item]
    means = dict(zip(rows["condition"].astype(str), rows["mean"].astype(float), strict=True))
    lines = []
    if {"active", "placebo"} <= set(means):
        lines.append(
            f"{item} reduced by {means['active']:.1f}% on the drug vs "
            f"{means['placebo']:.1f}% on placebo (from baseline)"
        )
    contrast = results.primary.get(item)
    if contrast is not None:
        lines.append(
            f"mixed model, drug - placebo: {contrast.estimate:.2f} points "
            f"(95% CI {contrast.ci_low:.2f} to {contrast.ci_high:.2f}), {p_statement(contrast.p)}"
        )
    responders = results.responder_summary
    rates = dict(
        zip(responders["condition"].astype(str), responders["rate"].astype(float), strict=True)
    )
    if {"active", "placebo"} <= set(rates):
        test = results.responder_test
        lines.append(
            f"responders {rates['active']:.0%} on the drug vs {rates['placebo']:.0%} on placebo"
            + (f" (exact McNemar {p_statement(test.p)})" if test is not None else "")
        )
    return lines
