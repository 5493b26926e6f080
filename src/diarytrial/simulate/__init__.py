"""A seeded simulator of whole trials, calibrated to the published LDN fibromyalgia trial."""

from diarytrial.simulate.allocation import (
    permuted_block_list,
    permuted_blocks,
    stratified_allocation,
)
from diarytrial.simulate.parameters import (
    DEFAULT_START,
    ItemProfile,
    SideEffectProfile,
    SimulationParameters,
)
from diarytrial.simulate.people import participant_codes
from diarytrial.simulate.trial import simulate_trial

__all__ = [
    "DEFAULT_START",
    "ItemProfile",
    "SideEffectProfile",
    "SimulationParameters",
    "participant_codes",
    "permuted_block_list",
    "permuted_blocks",
    "simulate_trial",
    "stratified_allocation",
]
