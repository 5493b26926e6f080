"""Permuted-block allocation: balance, reproducibility, strata."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diarytrial.simulate.allocation import (
    permuted_block_list,
    permuted_blocks,
    stratified_allocation,
)

SEQUENCE_SETS = st.sampled_from(
    [
        [("a", "b"), ("b", "a")],
        [("a",), ("b",), ("c",)],
        [("a", "b", "a", "b"), ("b", "a", "b", "a"), ("a", "b", "b", "a"), ("b", "a", "a", "b")],
    ]
)


@st.composite
def designs(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], list[int], int, int]:
    sequences = draw(SEQUENCE_SETS)
    k = len(sequences)
    multiples = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True))
    n = draw(st.integers(0, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    return sequences, [k * m for m in multiples], n, seed


@given(designs())
@settings(max_examples=80, deadline=None)
def test_every_complete_block_is_balanced(design: tuple) -> None:
    sequences, sizes, n, seed = design
    blocks = permuted_blocks(sequences, sizes, n, np.random.default_rng(seed))
    assert sum(len(b) for b in blocks) >= n
    for block in blocks:
        assert len(block) in sizes
        counts = Counter(block)
        assert set(counts) == set(sequences)
        assert len(set(counts.values())) == 1


@given(designs())
@settings(max_examples=80, deadline=None)
def test_list_is_the_blocks_prefix_and_reproducible(design: tuple) -> None:
    sequences, sizes, n, seed = design
    listed = permuted_block_list(sequences, sizes, n, np.random.default_rng(seed))
    again = permuted_block_list(sequences, sizes, n, np.random.default_rng(seed))
    blocks = permuted_blocks(sequences, sizes, n, np.random.default_rng(seed))
    assert listed == again
    assert listed == [a for b in blocks for a in b][:n]
    assert len(listed) == n
    # Within any prefix, the imbalance is bounded by the largest block.
    counts = Counter(listed)
    if counts:
        assert max(counts.values()) - min(counts.get(s, 0) for s in sequences) <= max(sizes)


@given(
    st.lists(st.sampled_from(["x", "y", "z"]), min_size=0, max_size=40),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_each_stratum_follows_its_own_balanced_list(strata: list[str], seed: int) -> None:
    sequences = [("a", "b"), ("b", "a")]
    out = stratified_allocation(strata, sequences, [2], np.random.default_rng(seed))
    assert len(out) == len(strata)
    assert out == stratified_allocation(strata, sequences, [2], np.random.default_rng(seed))
    for stratum in set(strata):
        mine = [a for a, s in zip(out, strata, strict=True) if s == stratum]
        for k in range(0, len(mine) - 1, 2):  # blocks of 2: each pair holds both sequences
            assert set(mine[k : k + 2]) == set(sequences)


def test_different_seeds_give_different_lists() -> None:
    sequences = [("a", "b"), ("b", "a")]
    lists = {
        tuple(permuted_block_list(sequences, [2, 4], 40, np.random.default_rng(seed)))
        for seed in range(5)
    }
    assert len(lists) > 1


def test_bad_arguments_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="multiple of 2"):
        permuted_block_list([("a",), ("b",)], [3], 4, rng)
    with pytest.raises(ValueError, match="at least one sequence"):
        permuted_block_list([], [2], 4, rng)
    with pytest.raises(ValueError, match="negative"):
        permuted_block_list([("a",), ("b",)], [2], -1, rng)
