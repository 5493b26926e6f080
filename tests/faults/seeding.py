"""State for the fault tests, made through the services in a process of its own.

The fault tests serve a study from a database of its own (or from a private PostgreSQL cluster),
so its participants cannot be made in the test's process, whose Django talks to the test
database. This module runs as ``python tests/clocked.py NOW -m tests.faults.seeding ...`` with
``DATABASE_URL`` naming that database, on the test's clock, and prints what it made as JSON:

- ``phones COUNT``: a study (the LDN example) and COUNT participants enrolled today, each with
  a phone bound through an enrolment link, in an ``Etc/GMT±N`` zone where it is 21:00 now, so
  tonight's diary window is open for a few hours: ``[{"token", "timezone", "diary_date"},
  ...]``;
- ``trial``: the export tests' small trial (tests/exports/trial.py), locked and unblinded by its
  statistician: ``{"study", "statistician"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

TONIGHT_HOUR = 21
"""Local hour of the phones' zone now: the window (18:00 to 03:00) is open for six hours."""


def phones(count: int) -> list[dict[str, Any]]:
    from django.utils import timezone
    from tests.builders import make_device, make_member, make_participant, make_study

    from diarytrial.protocol import zone_where_it_is
    from diarytrial.studies.models import Role

    study = make_study()
    coordinator = make_member(study=study, role=Role.COORDINATOR).user
    zone = zone_where_it_is(TONIGHT_HOUR, timezone.now())
    made = []
    for _ in range(count):
        participant = make_participant(study=study, tz=zone, actor=coordinator)
        _, token = make_device(participant, user_agent="fault test phone")
        made.append(
            {
                "token": token,
                "timezone": zone,
                "diary_date": str(participant.start_date),  # enrolled today: tonight's date
            }
        )
    return made


def trial() -> dict[str, Any]:
    from tests.exports.trial import make_trial

    from diarytrial.exports.services import study_unblind

    made = make_trial()
    made.lock()
    study_unblind(study=made.study, reason="analysis plan signed", actor=made.statistician)
    return {"study": made.study.slug, "statistician": made.statistician.username}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tests.faults.seeding", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True)
    kinds.add_parser("phones").add_argument("count", type=int)
    kinds.add_parser("trial")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diarytrial.web.settings")
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():  # one commit for the whole seeding: each service nests in it
        made = phones(args.count) if args.kind == "phones" else trial()
    print(json.dumps(made))


if __name__ == "__main__":
    main(sys.argv[1:])
