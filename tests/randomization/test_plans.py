"""Properties of allocation lists, strata and kit inventories (pure functions, no database)."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diarytrial.randomization.plans import (
    NO_STRATA,
    SEED_LIMIT,
    allocation_plan,
    fingerprint,
    kit_plan,
    slots_content,
    stratum_keys_all,
    stratum_normalize,
)
from diarytrial.simulate.allocation import permuted_block_list
from diarytrial.simulate.people import CODE_ALPHABET

seeds = st.integers(min_value=0, max_value=SEED_LIMIT - 1)


@st.composite
def designs(draw: st.DrawFn) -> tuple[list[str], list[int]]:
    """Sequence codes (2 to 4) and block sizes (multiples of their number)."""
    k = draw(st.integers(min_value=2, max_value=4))
    codes = ["".join(chr(ord("A") + (j + i) % k) for i in range(k)) for j in range(k)]
    multiples = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True))
    return codes, [k * m for m in multiples]


@given(design=designs(), size=st.integers(1, 120), seed=seeds)
@settings(max_examples=150, deadline=None)
def test_every_block_is_complete_and_balanced(
    design: tuple[list[str], list[int]], size: int, seed: int
) -> None:
    codes, block_sizes = design
    plan = allocation_plan(sequence_codes=codes, block_sizes=block_sizes, size=size, seed=seed)

    assert [s.position for s in plan] == list(range(1, len(plan) + 1))
    assert size <= len(plan) < size + max(block_sizes)
    blocks: dict[int, list[str]] = {}
    for slot in plan:
        blocks.setdefault(slot.block, []).append(slot.sequence_code)
    assert list(blocks) == list(range(1, len(blocks) + 1))
    for contents in blocks.values():
        assert len(contents) in block_sizes
        counts = Counter(contents)
        assert set(counts) == set(codes)
        assert len(set(counts.values())) == 1


@given(design=designs(), size=st.integers(1, 120), seed=seeds)
@settings(max_examples=150, deadline=None)
def test_no_prefix_is_more_unbalanced_than_half_the_largest_block(
    design: tuple[list[str], list[int]], size: int, seed: int
) -> None:
    codes, block_sizes = design
    plan = allocation_plan(sequence_codes=codes, block_sizes=block_sizes, size=size, seed=seed)
    bound = max(block_sizes) // len(codes) * (len(codes) - 1)

    counts = Counter[str]()
    for slot in plan:
        counts[slot.sequence_code] += 1
        spread = max(counts[c] for c in codes) - min(counts[c] for c in codes)
        assert spread <= bound


@given(design=designs(), size=st.integers(1, 80), seed=seeds)
@settings(max_examples=100, deadline=None)
def test_the_seed_reproduces_the_list_and_it_is_the_simulators_list(
    design: tuple[list[str], list[int]], size: int, seed: int
) -> None:
    codes, block_sizes = design
    first = allocation_plan(sequence_codes=codes, block_sizes=block_sizes, size=size, seed=seed)
    again = allocation_plan(sequence_codes=codes, block_sizes=block_sizes, size=size, seed=seed)
    simulator = permuted_block_list(
        [(c,) for c in codes], block_sizes, size, np.random.default_rng(seed)
    )

    assert first == again
    assert [s.sequence_code for s in first[:size]] == [s[0] for s in simulator]
    # Regenerating for the stored length (complete blocks) gives the same list.
    assert (
        allocation_plan(sequence_codes=codes, block_sizes=block_sizes, size=len(first), seed=seed)
        == first
    )


def test_different_seeds_give_different_lists() -> None:
    lists = {
        tuple(
            s.sequence_code
            for s in allocation_plan(
                sequence_codes=["AB", "BA"], block_sizes=[2, 4], size=30, seed=seed
            )
        )
        for seed in range(20)
    }
    assert len(lists) == 20


@given(
    arrivals=st.lists(st.sampled_from(["s1", "s2", "s3"]), min_size=1, max_size=150),
    seed=seeds,
    block_sizes=st.sampled_from([[2], [2, 4], [4, 6], [2, 4, 6]]),
)
@settings(max_examples=150, deadline=None)
def test_stratum_lists_keep_each_stratum_and_the_whole_trial_balanced(
    arrivals: list[str], seed: int, block_sizes: list[int]
) -> None:
    """Participants arrive in any order of strata; each takes the next slot of its stratum."""
    lists = {
        stratum: iter(
            allocation_plan(
                sequence_codes=["AB", "BA"],
                block_sizes=block_sizes,
                size=len(arrivals),
                seed=(seed + k) % SEED_LIMIT,
            )
        )
        for k, stratum in enumerate(["s1", "s2", "s3"])
    }
    per_stratum = {stratum: Counter[str]() for stratum in lists}
    overall = Counter[str]()
    half = max(block_sizes) // 2
    for stratum in arrivals:
        code = next(lists[stratum]).sequence_code
        per_stratum[stratum][code] += 1
        overall[code] += 1
        for counts in per_stratum.values():
            assert abs(counts["AB"] - counts["BA"]) <= half
        assert abs(overall["AB"] - overall["BA"]) <= half * len(lists)


def test_a_list_needs_a_slot_and_a_seed_that_can_be_stored() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        allocation_plan(sequence_codes=["AB", "BA"], block_sizes=[2], size=0, seed=1)
    with pytest.raises(ValueError, match="a seed is a whole number"):
        allocation_plan(sequence_codes=["AB", "BA"], block_sizes=[2], size=4, seed=SEED_LIMIT)
    with pytest.raises(ValueError, match="a seed is a whole number"):
        allocation_plan(sequence_codes=["AB", "BA"], block_sizes=[2], size=4, seed=-1)


def test_the_fingerprint_changes_with_any_slot_and_hides_the_content() -> None:
    plan = allocation_plan(sequence_codes=["AB", "BA"], block_sizes=[2, 4], size=10, seed=5)
    content = slots_content(plan, seed=5, stratum="all")
    changed = [*plan[:-1], type(plan[-1])(plan[-1].position, plan[-1].block, "XX")]

    base = fingerprint(salt="00" * 16, content=content)
    assert base == fingerprint(salt="00" * 16, content=content)
    assert base != fingerprint(salt="11" * 16, content=content)
    assert base != fingerprint(
        salt="00" * 16, content=slots_content(changed, seed=5, stratum="all")
    )
    assert re.fullmatch("[0-9a-f]{64}", base)


# --- strata ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strata", "key", "expected"),
    [
        (["opioid_use"], "opioid_use=true", "opioid_use=true"),
        (["opioid_use"], " opioid_use = FALSE ", "opioid_use=false"),
        (
            ["site", "opioid_use"],
            "opioid_use=false|site=stanford",
            "site=stanford|opioid_use=false",
        ),
        (["site"], "site=boston", "site=boston"),
        ([], "all", NO_STRATA),
        ([], "", NO_STRATA),
    ],
)
def test_stratum_keys_are_written_canonically(strata: list[str], key: str, expected: str) -> None:
    assert stratum_normalize(strata, key, site_codes=["stanford", "boston"]) == expected


@pytest.mark.parametrize(
    ("strata", "key", "message"),
    [
        (["opioid_use"], "site=stanford", "'site' is not a stratum"),
        (["opioid_use"], "opioid_use=maybe", "true or false"),
        (["site", "opioid_use"], "site=stanford", "needs a value for opioid_use"),
        (["site"], "site=nowhere", "no site 'nowhere'"),
        (["site"], "site=stanford|site=boston", "twice"),
        (["opioid_use"], "opioid_use", "one factor=value"),
        ([], "opioid_use=true", "no strata"),
    ],
)
def test_a_wrong_stratum_key_says_what_is_wrong(strata: list[str], key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stratum_normalize(strata, key, site_codes=["stanford", "boston"])


def test_all_strata_of_a_study() -> None:
    assert stratum_keys_all(["opioid_use"], site_codes=["a"]) == [
        "opioid_use=false",
        "opioid_use=true",
    ]
    assert stratum_keys_all(["site"], site_codes=["b", "a"]) == ["site=a", "site=b"]


# --- kits -----------------------------------------------------------------------------------------


@given(per=st.integers(1, 30), seed=seeds)
@settings(max_examples=80, deadline=None)
def test_kits_have_the_right_contents_and_unique_random_codes(per: int, seed: int) -> None:
    kits = kit_plan(
        arms=["ldn", "placebo"], levels=["reduced", "standard"], per_arm_and_level=per, seed=seed
    )

    assert Counter((k.arm, k.dose_level) for k in kits) == {
        (arm, level): per for arm in ("ldn", "placebo") for level in ("reduced", "standard")
    }
    codes = [k.code for k in kits]
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)
    assert all(re.fullmatch(f"K-[{CODE_ALPHABET}]{{4,}}", code) for code in codes)


@given(per=st.integers(1, 30), seed=seeds)
@settings(max_examples=80, deadline=None)
def test_kit_codes_do_not_depend_on_the_contents(per: int, seed: int) -> None:
    """Renaming the arms changes no code: a code is drawn before its contents are dealt."""
    named = kit_plan(arms=["ldn", "placebo"], levels=["x"], per_arm_and_level=per, seed=seed)
    renamed = kit_plan(arms=["zz", "aa"], levels=["y"], per_arm_and_level=per, seed=seed)

    assert [k.code for k in named] == [k.code for k in renamed]


def test_kit_codes_avoid_codes_taken_already() -> None:
    first = kit_plan(arms=["a", "b"], levels=["x"], per_arm_and_level=50, seed=1)
    second = kit_plan(
        arms=["a", "b"], levels=["x"], per_arm_and_level=50, seed=1, taken=[k.code for k in first]
    )

    assert not {k.code for k in first} & {k.code for k in second}


def _runs_z(labels: list[str]) -> float:
    """Wald-Wolfowitz runs test statistic of a two-valued sequence."""
    n1 = sum(1 for label in labels if label == labels[0])
    n2 = len(labels) - n1
    runs = 1 + sum(1 for a, b in itertools.pairwise(labels) if a != b)
    mean = 2 * n1 * n2 / (n1 + n2) + 1
    variance = (mean - 1) * (mean - 2) / (n1 + n2 - 1)
    return (runs - mean) / math.sqrt(variance)


@pytest.mark.parametrize("seed", range(10))
def test_kits_sorted_by_code_carry_no_arm_pattern(seed: int) -> None:
    """In code order, arms alternate like coin flips and every quarter holds both evenly."""
    kits = kit_plan(arms=["ldn", "placebo"], levels=["standard"], per_arm_and_level=100, seed=seed)
    arms = [k.arm for k in kits]

    # |z| > 4.4 has probability 1e-5 under independence; grouping by arm gives z near -14.
    assert abs(_runs_z(arms)) < 4.4
    for quarter in range(4):
        share = arms[quarter * 50 : (quarter + 1) * 50].count("ldn")
        # Hypergeometric: mean 25, sd 3.1; outside 10..40 has probability below 1e-5.
        assert 10 <= share <= 40
    first_characters = Counter((k.code[2], k.arm) for k in kits)
    assert max(first_characters.values()) <= 20
