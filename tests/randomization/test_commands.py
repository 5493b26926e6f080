"""``diarytrial allocation_generate``, ``kits_generate`` and ``kits_import``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from tests.builders import make_member, make_study

from diarytrial.randomization.models import AllocationList, Kit
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_allocation_generate_makes_a_list_per_stratum_and_prints_no_contents() -> None:
    study = make_study()
    pharmacist = make_member(study=study, role=Role.PHARMACIST, username="pharma").user

    output = run("allocation_generate", study.slug, "--size", "10", "--seed", "1", "--by", "pharma")

    lists = list(AllocationList.objects.order_by("stratum"))
    assert [(a.stratum, a.created_by) for a in lists] == [
        ("opioid_use=false", pharmacist),
        ("opioid_use=true", pharmacist),
    ]
    assert lists[0].seed != lists[1].seed
    assert "opioid_use=false: " in output
    assert "seed recorded" in output
    for allocation_list in lists:
        assert str(allocation_list.seed) not in output
    assert "AB" not in output
    assert "BA" not in output
    assert run("allocation_generate", study.slug, "--size", "10").startswith("Every stratum")


def test_allocation_generate_with_a_seed_is_reproducible() -> None:
    first = make_study()
    second = make_study(study_id="replica")

    run("allocation_generate", first.slug, "--size", "8", "--seed", "77")
    run("allocation_generate", second.slug, "--size", "8", "--seed", "77")

    def seeds(slug: str) -> list[int]:
        return list(
            AllocationList.objects.filter(study__slug=slug)
            .order_by("stratum")
            .values_list("seed", flat=True)
        )

    assert seeds(first.slug) == seeds(second.slug)


def test_allocation_generate_refuses_a_bad_stratum_and_an_unknown_study() -> None:
    study = make_study()

    with pytest.raises(CommandError, match="not a stratum") as caught:
        run("allocation_generate", study.slug, "--size", "8", "--stratum", "site=x")
    assert caught.value.returncode == 1
    with pytest.raises(CommandError, match="no study 'nope'"):
        run("allocation_generate", "nope", "--size", "8")


def test_kits_generate_and_import(tmp_path: Path) -> None:
    study = make_study()

    made = run("kits_generate", study.slug, "--per-arm-and-level", "2", "--seed", "3")
    csv_file = tmp_path / "supplier.csv"
    csv_file.write_text("code,arm,dose_level\nS-9XK2,ldn,reduced\n", encoding="utf-8")
    imported = run("kits_import", study.slug, str(csv_file))

    assert made.startswith(f"Made 8 kits for {study.slug}")
    assert imported == f"Imported 1 kits for {study.slug} from supplier.csv.\n"
    assert Kit.objects.count() == 9


def test_kits_import_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    study = make_study()
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("code,arm,dose_level\nS-1,ldn,x\nS-2,nope,reduced\n", encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        run("kits_import", study.slug, str(csv_file))

    assert caught.value.returncode == 2
    assert "line 2: dose level 'x'" in str(caught.value)
    assert "line 3: arm 'nope'" in str(caught.value)
    assert not Kit.objects.exists()
