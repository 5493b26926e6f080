"""Allocation lists: permuted blocks of random size, optionally stratified.

Pure functions of their arguments and an explicit generator, so a list is reproduced from its
recorded seed. The live randomization app uses the same functions as the simulator.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

Sequence_ = tuple[str, ...]


def _check(sequences: Sequence[Sequence_], block_sizes: Sequence[int]) -> None:
    if not sequences:
        raise ValueError("give at least one sequence to allocate")
    if not block_sizes:
        raise ValueError("give at least one block size")
    k = len(sequences)
    for size in block_sizes:
        if size < 1 or size % k:
            raise ValueError(
                f"a block of {size} cannot hold each of the {k} sequences equally often; "
                f"use a positive multiple of {k}"
            )


def permuted_blocks(
    sequences: Sequence[Sequence_],
    block_sizes: Sequence[int],
    n: int,
    rng: np.random.Generator,
) -> list[tuple[Sequence_, ...]]:
    """Blocks of an allocation list that together hold at least `n` allocations.

    Each block's size is drawn uniformly from `block_sizes`; a block of size ``m`` holds each
    sequence ``m / len(sequences)`` times in a random order.

    Parameters
    ----------
    sequences : sequence of tuple of str
        The sequences to allocate, e.g. ``[("ldn", "placebo"), ("placebo", "ldn")]``.
    block_sizes : sequence of int
        Allowed block sizes, each a multiple of ``len(sequences)``.
    n : int
        Number of allocations needed (>= 0).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    list of tuple
        The blocks in order; the last may hold more allocations than needed.

    Examples
    --------
    >>> import numpy as np
    >>> blocks = permuted_blocks([("a", "b"), ("b", "a")], [2, 4], 5, np.random.default_rng(1))
    >>> sum(len(b) for b in blocks) >= 5
    True
    """
    _check(sequences, block_sizes)
    if n < 0:
        raise ValueError(f"n is the number of allocations and cannot be negative (got {n})")
    k = len(sequences)
    blocks: list[tuple[Sequence_, ...]] = []
    total = 0
    while total < n:
        size = int(block_sizes[int(rng.integers(len(block_sizes)))])
        contents = [tuple(sequences[j % k]) for j in range(size)]
        order = rng.permutation(size)
        blocks.append(tuple(contents[int(o)] for o in order))
        total += size
    return blocks


def permuted_block_list(
    sequences: Sequence[Sequence_],
    block_sizes: Sequence[int],
    n: int,
    rng: np.random.Generator,
) -> list[Sequence_]:
    """An allocation list of `n` sequences by permuted blocks of random size.

    The list is the first `n` allocations of :func:`permuted_blocks` with the same
    arguments and generator state: every complete block is balanced.

    Examples
    --------
    >>> import numpy as np
    >>> allocation = permuted_block_list(
    ...     [("ldn", "placebo"), ("placebo", "ldn")], [2, 4], 6, np.random.default_rng(7)
    ... )
    >>> len(allocation), sorted(set(allocation))
    (6, [('ldn', 'placebo'), ('placebo', 'ldn')])
    """
    blocks = permuted_blocks(sequences, block_sizes, n, rng)
    return [allocation for block in blocks for allocation in block][:n]


def stratified_allocation(
    strata: Sequence[Hashable],
    sequences: Sequence[Sequence_],
    block_sizes: Sequence[int],
    rng: np.random.Generator,
) -> list[Sequence_]:
    """Allocate participants in enrolment order, one permuted-block list per stratum.

    Parameters
    ----------
    strata : sequence of hashable
        The stratum of each participant in enrolment order, e.g. ``(site, opioid_use)``;
        pass the same value for everyone to allocate without strata.
    sequences, block_sizes, rng
        As in :func:`permuted_block_list`.

    Returns
    -------
    list of tuple of str
        The sequence of each participant, in the order of `strata`. Each stratum takes the
        next allocation of its own list, which is generated in the order the strata first
        appear.

    Examples
    --------
    >>> import numpy as np
    >>> strata = [True, False, False, True, False, False]
    >>> out = stratified_allocation(strata, [("a",), ("b",)], [2], np.random.default_rng(3))
    >>> sorted(out[i] for i in (0, 3)), sorted(out[i] for i in (1, 2))
    ([('a',), ('b',)], [('a',), ('b',)])
    """
    counts: dict[Hashable, int] = {}
    for stratum in strata:
        counts[stratum] = counts.get(stratum, 0) + 1
    lists = {
        stratum: iter(permuted_block_list(sequences, block_sizes, count, rng))
        for stratum, count in counts.items()
    }
    return [next(lists[stratum]) for stratum in strata]
