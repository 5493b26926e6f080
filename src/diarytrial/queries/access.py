"""Who may do what with data queries (docs/guide-staff.md, "Data queries").

- Raise: coordinators and investigators (the site team, who see their own data problems) and
  the statistician, who acts as the blinded data manager until unblinding (a query names a
  record, never an arm). The pharmacist holds the allocation and does not discuss clinical
  data; the administrator manages accounts, not data.
- Answer, and correct a record in answer: the coordinator or investigator of the participant's
  site (a coordinator limited to some sites sees only theirs).
- Close or re-open: the member who raised the query, while they still have a role that raises.
- Read the list and a query's thread: those who raise, and the administrator (to follow the
  study's progress towards the lock).
"""

from __future__ import annotations

from django.contrib.auth.models import User

from diarytrial.core.errors import PermissionDeniedError
from diarytrial.participants.models import Participant
from diarytrial.studies.access import require_role, sites_visible_to
from diarytrial.studies.models import Role

RAISE_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN)
ANSWER_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)
READ_ROLES = (*RAISE_ROLES, Role.ADMINISTRATOR)


def require_site_role(user: User, participant: Participant, *roles: Role) -> None:
    """`user` has one of `roles` in the participant's study, at the participant's site;
    PermissionDeniedError otherwise."""
    study = participant.study
    require_role(user, study, *roles)
    if not sites_visible_to(user, study).filter(pk=participant.site_id).exists():
        raise PermissionDeniedError(
            f"Participant {participant.code} is at a site you do not work at; the team of "
            f"that site takes care of their data.",
            extra={"study": study.slug, "participant": participant.code},
        )
