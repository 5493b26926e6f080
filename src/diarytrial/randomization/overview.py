"""Reads for the pharmacist's pages that combine several selectors with the protocol's names."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from diarytrial.protocol import Protocol
from diarytrial.randomization.plans import kits_per_participant
from diarytrial.randomization.services import KitContents, kit_contents_read
from diarytrial.studies.access import AnyUser
from diarytrial.studies.models import Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol


@dataclass(frozen=True)
class KitStock:
    """How many kits of one arm and dose level there are, by status."""

    arm_name: str
    dose_level: str
    dose_mg: float | None
    available: int
    dispensed: int
    destroyed: int


@dataclass(frozen=True)
class KitLine:
    """A kit with its contents named as the protocol names them: unblinded."""

    kit: KitContents
    arm_name: str
    dose_mg: float | None


@dataclass(frozen=True)
class KitNeed:
    """How many kits of one arm a participant takes over the trial, one per visit: unblinded."""

    arm_name: str
    kits: int


@dataclass(frozen=True)
class InventoryPage:
    stock: tuple[KitStock, ...]
    kits: tuple[KitLine, ...]
    needs: tuple[KitNeed, ...]

    @property
    def most_of_one_arm(self) -> int:
        """The most kits of one arm a participant takes: N kits of each arm and level serve
        N divided by this many participants who stay at one dose level."""
        return max((need.kits for need in self.needs), default=1)


def _arm_name(protocol: Protocol, arm: str) -> str:
    try:
        return protocol.arm(arm).name
    except KeyError:  # an arm of an earlier protocol version
        return arm


def _dose_mg(protocol: Protocol, arm: str, level: str) -> float | None:
    try:
        return protocol.arm(arm).dose_mg.get(level)
    except KeyError:
        return None


def inventory_page(*, user: AnyUser, study: Study) -> InventoryPage:
    """Every kit with its contents and the stock per arm and level (an audited, unblinded read)."""
    kits = kit_contents_read(user=user, study=study)
    protocol = protocol_version_load(study_current_protocol(study)).protocol
    counts = Counter((k.arm, k.dose_level, k.status) for k in kits)
    kinds = [(arm.id, level) for arm in protocol.arms for level in protocol.dosing.levels]
    kinds += sorted({(k.arm, k.dose_level) for k in kits} - set(kinds))
    stock = tuple(
        KitStock(
            arm_name=_arm_name(protocol, arm),
            dose_level=level,
            dose_mg=_dose_mg(protocol, arm, level),
            available=counts[(arm, level, "available")],
            dispensed=counts[(arm, level, "dispensed")],
            destroyed=counts[(arm, level, "destroyed")],
        )
        for arm, level in kinds
    )
    lines = tuple(
        KitLine(k, _arm_name(protocol, k.arm), _dose_mg(protocol, k.arm, k.dose_level))
        for k in kits
    )
    needs = tuple(
        KitNeed(_arm_name(protocol, arm), n) for arm, n in kits_per_participant(protocol).items()
    )
    return InventoryPage(stock=stock, kits=lines, needs=needs)
