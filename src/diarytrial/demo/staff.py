"""The demo's staff: one user of each role, with a random password shown once.

Created directly, before any study exists (there is no membership to grant yet): the one write
outside a service, named in tests/architecture/test_writes_in_services.py.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from diarytrial.studies.models import Role


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    password: str


def demo_staff() -> tuple[dict[Role, User], tuple[Login, ...]]:
    roles = (
        Role.ADMINISTRATOR,
        Role.COORDINATOR,
        Role.INVESTIGATOR,
        Role.PHARMACIST,
        Role.STATISTICIAN,
    )
    passwords = {role: secrets.token_urlsafe(9) for role in roles}
    # Each hash costs the full PBKDF2 work; the hashing releases the GIL, so run them together.
    with ThreadPoolExecutor(max_workers=len(roles)) as pool:
        hashes = dict(zip(roles, pool.map(make_password, passwords.values()), strict=True))
    users: dict[Role, User] = {}
    for role in roles:
        username = role.value
        users[role] = User.objects.create(
            username=username,
            email=f"{username}@example.org",
            password=hashes[role],
            is_staff=role == Role.ADMINISTRATOR,
            is_superuser=role == Role.ADMINISTRATOR,
        )
    logins = tuple(
        Login(role=str(role.label), username=role.value, password=passwords[role]) for role in roles
    )
    return users, logins
