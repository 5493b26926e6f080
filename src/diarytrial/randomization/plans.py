"""Pure plans of allocation lists, strata and kit inventories (no Django, no database).

The services store what these functions return; the property tests check these functions
directly. Every plan is a function of its arguments and a seed, so it is reproduced from the
recorded seed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from diarytrial.protocol import Protocol
from diarytrial.protocol.visits import kit_arm, visit_calendar
from diarytrial.simulate.allocation import permuted_blocks
from diarytrial.simulate.people import CODE_ALPHABET

SEED_LIMIT = 2**63
"""Seeds are integers from 0 to 2**63 - 1 (they are stored in a 64-bit column)."""

NO_STRATA = "all"
"""The stratum key of a protocol without strata: one list for everyone."""

KIT_CODE_PREFIX = "K-"


@dataclass(frozen=True)
class PlannedSlot:
    """One allocation of a list: its 1-based position and block, and the sequence code."""

    position: int
    block: int
    sequence_code: str


def allocation_plan(
    *,
    sequence_codes: Sequence[str],
    block_sizes: Sequence[int],
    size: int,
    seed: int,
) -> list[PlannedSlot]:
    """An allocation list of at least `size` slots in complete permuted blocks.

    Block sizes are drawn uniformly from `block_sizes` (each a multiple of the number of
    sequences) and each block holds every sequence equally often in random order, as
    :func:`diarytrial.simulate.allocation.permuted_blocks` makes them; the list keeps its last
    block whole, so it may be longer than `size` and every block is balanced.

    >>> [s.sequence_code for s in allocation_plan(
    ...     sequence_codes=["AB", "BA"], block_sizes=[2], size=4, seed=1)]
    ['AB', 'BA', 'AB', 'BA']
    """
    if size < 1:
        raise ValueError(f"an allocation list needs at least one slot (asked for {size})")
    seed_check(seed)
    sequences = [(code,) for code in sequence_codes]
    blocks = permuted_blocks(sequences, block_sizes, size, np.random.default_rng(seed))
    slots: list[PlannedSlot] = []
    for number, block in enumerate(blocks, start=1):
        for allocation in block:
            slots.append(PlannedSlot(len(slots) + 1, number, allocation[0]))
    return slots


def seed_check(seed: int) -> None:
    """Raise ValueError unless `seed` can be recorded (0 <= seed < 2**63)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"a seed is a whole number from 0 to {SEED_LIMIT - 1} (got {seed!r})")


def fingerprint(*, salt: str, content: object) -> str:
    """SHA-256 of `content` (JSON) with `salt`: a commitment that reveals nothing of it.

    The audit trail records the fingerprint of an allocation list or a kit inventory, not its
    content, so blinded readers of the trail learn nothing while any later change of the stored
    rows is detected by recomputing the fingerprint with the stored salt.
    """
    text = json.dumps({"salt": salt, "content": content}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slots_content(slots: Iterable[PlannedSlot], *, seed: int, stratum: str) -> object:
    """What an allocation list's fingerprint covers."""
    return {
        "seed": seed,
        "stratum": stratum,
        "slots": [[s.position, s.block, s.sequence_code] for s in slots],
    }


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def stratum_key(strata: Sequence[str], *, site: str, opioid_use: bool) -> str:
    """The stratum of a participant, e.g. ``site=stanford|opioid_use=false``, in protocol order.

    >>> stratum_key(["opioid_use"], site="stanford", opioid_use=True)
    'opioid_use=true'
    >>> stratum_key([], site="stanford", opioid_use=True)
    'all'
    """
    if not strata:
        return NO_STRATA
    values = {"site": site, "opioid_use": _bool_text(opioid_use)}
    return "|".join(f"{factor}={values[factor]}" for factor in strata)


def stratum_keys_all(strata: Sequence[str], *, site_codes: Iterable[str]) -> list[str]:
    """Every stratum key of a protocol with `strata` in a study with sites `site_codes`.

    >>> keys = stratum_keys_all(["site", "opioid_use"], site_codes=["b", "a"])
    >>> len(keys), keys[0], keys[-1]
    (4, 'site=a|opioid_use=false', 'site=b|opioid_use=true')
    >>> stratum_keys_all([], site_codes=["a"])
    ['all']
    """
    sites = sorted(site_codes) if "site" in strata else ["-"]
    flags = (False, True) if "opioid_use" in strata else (False,)
    keys = [stratum_key(strata, site=site, opioid_use=flag) for site in sites for flag in flags]
    return list(dict.fromkeys(keys))


def stratum_normalize(strata: Sequence[str], key: str, *, site_codes: Iterable[str]) -> str:
    """`key` written canonically for a protocol with `strata`; ValueError says what is wrong.

    >>> stratum_normalize(["site", "opioid_use"], "opioid_use=TRUE| site=a", site_codes=["a"])
    'site=a|opioid_use=true'
    """
    key = key.strip()
    if not strata:
        if key.lower() in (NO_STRATA, ""):
            return NO_STRATA
        raise ValueError(f"the protocol has no strata: use the stratum {NO_STRATA!r}")
    example = stratum_key(strata, site="SITE", opioid_use=False)
    values: dict[str, str] = {}
    for part in key.split("|"):
        name, sep, value = (p.strip() for p in part.partition("="))
        name = name.lower()
        if not sep or not name or not value:
            raise ValueError(f"write the stratum as {example!r}, one factor=value per stratum")
        if name not in strata:
            raise ValueError(
                f"{name!r} is not a stratum of the protocol; its strata are {', '.join(strata)}"
            )
        if name in values:
            raise ValueError(f"the stratum names {name!r} twice")
        values[name] = value
    missing = [factor for factor in strata if factor not in values]
    if missing:
        raise ValueError(f"the stratum needs a value for {', '.join(missing)}, e.g. {example!r}")
    if "opioid_use" in values:
        flag = values["opioid_use"].lower()
        if flag not in ("true", "false"):
            raise ValueError(f"opioid_use is true or false, not {values['opioid_use']!r}")
        values["opioid_use"] = flag
    if "site" in values:
        codes = sorted(site_codes)
        if values["site"] not in codes:
            raise ValueError(
                f"the study has no site {values['site']!r}; its sites are "
                f"{', '.join(codes) or 'none yet'}"
            )
    return "|".join(f"{factor}={values[factor]}" for factor in strata)


@dataclass(frozen=True)
class PlannedKit:
    """One kit: a code that says nothing, and its (unblinded) contents."""

    code: str
    arm: str
    dose_level: str


def _code_length(n: int) -> int:
    length = 4
    while len(CODE_ALPHABET) ** length < 20 * max(n, 1):
        length += 1
    return length


def kit_codes(n: int, rng: np.random.Generator, *, taken: Iterable[str] = ()) -> list[str]:
    """`n` distinct random kit codes such as ``K-7Q3M``, none of them in `taken`."""
    used = set(taken)
    base = len(CODE_ALPHABET)
    length = _code_length(n + len(used))
    codes: list[str] = []
    seen = set(used)
    while len(codes) < n:
        number = int(rng.integers(base**length))
        chars = [CODE_ALPHABET[(number // base**k) % base] for k in reversed(range(length))]
        code = KIT_CODE_PREFIX + "".join(chars)
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def kit_plan(
    *,
    arms: Sequence[str],
    levels: Sequence[str],
    per_arm_and_level: int,
    seed: int,
    taken: Iterable[str] = (),
) -> list[PlannedKit]:
    """`per_arm_and_level` kits of every arm and dose level, sorted by code.

    The codes are drawn first, independently of the contents, and the contents are then dealt
    to them in a random order: a code, its position in code order and the order kits are stored
    in (sorted by code) carry no information about the arm.

    >>> kits = kit_plan(arms=["a", "b"], levels=["x"], per_arm_and_level=2, seed=3)
    >>> len(kits), sorted(k.arm for k in kits), kits == sorted(kits, key=lambda k: k.code)
    (4, ['a', 'a', 'b', 'b'], True)
    """
    if per_arm_and_level < 1:
        raise ValueError(f"make at least one kit of each kind (asked for {per_arm_and_level})")
    seed_check(seed)
    rng = np.random.default_rng(seed)
    contents = [(arm, level) for arm in arms for level in levels for _ in range(per_arm_and_level)]
    codes = kit_codes(len(contents), rng, taken=taken)
    order = rng.permutation(len(contents))
    kits = [
        PlannedKit(code=code, arm=contents[int(k)][0], dose_level=contents[int(k)][1])
        for code, k in zip(codes, order, strict=True)
    ]
    return sorted(kits, key=lambda kit: kit.code)


def kits_per_participant(protocol: Protocol) -> dict[str, int]:
    """The kits of each arm one participant takes: one per visit that dispenses a kit.

    Per arm, the most over the sequences (a washout with placebo capsules counts as placebo).
    In the LDN example both sequences take five kits, three of LDN and two of placebo, so an
    inventory of N kits of each arm and level serves N // 3 participants at one dose level.

    >>> from diarytrial.protocol import load_example
    >>> kits_per_participant(load_example("ldn-fibromyalgia").protocol)
    {'ldn': 3, 'placebo': 2}
    """
    calendar = visit_calendar(protocol)
    needs = dict.fromkeys((arm.id for arm in protocol.arms), 0)
    for contents in calendar.contents.values():
        taken = Counter(kit_arm(protocol, stretch) for stretch in contents)
        for arm in needs:
            needs[arm] = max(needs[arm], taken[arm])
    return needs


def kits_content(kits: Iterable[PlannedKit]) -> object:
    """What a kit inventory's fingerprint covers."""
    return [[k.code, k.arm, k.dose_level] for k in sorted(kits, key=lambda kit: kit.code)]
