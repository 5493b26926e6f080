"""The pharmacist's pages: kits due, dispensing, the kit inventory and the allocation lists; and
enrolment by sequence for the unblinded roles.

Every page here shows or uses allocation, so every view is for the pharmacist
(`study_role_required(Role.PHARMACIST)`), except enrolment by sequence, which the statistician
also sees once the study is unblinded. The unblinded selectors check the role again and record
each read in the audit trail.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST, require_safe

from diarytrial.core.errors import ConflictError, InvalidInputError, NotFoundError
from diarytrial.participants.selectors import participant_get
from diarytrial.randomization.errors import KitImportInvalidError
from diarytrial.randomization.forms import (
    AllocationGenerateForm,
    DispenseForm,
    KitGenerateForm,
    KitImportForm,
)
from diarytrial.randomization.overview import inventory_page
from diarytrial.randomization.selectors import (
    allocation_list_summaries,
    allocation_strata_without_list,
    dispensing_due,
    dispensing_list,
    kit_get,
)
from diarytrial.randomization.services import (
    allocation_list_generate,
    allocation_list_read,
    enrolment_by_sequence_read,
    kit_dispense,
    kit_inventory_generate,
    kit_inventory_import,
)
from diarytrial.studies.access import StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.zones import staff_today

REFUSALS = (InvalidInputError, ConflictError, StudyLockedError)
"""Refusals a person can act on: shown as a message on the page they came from."""


def _url(name: str, request: StudyRequest) -> str:
    return reverse(name, kwargs={"study": request.study.slug})


@require_safe
@study_role_required(Role.PHARMACIST)
def pharmacy(request: StudyRequest, study: str) -> HttpResponse:
    """The participants due a kit at their next visit, by the visit's date, each with the kit to
    hand out."""
    return render(
        request,
        "randomization/pharmacy.html",
        {
            "rows": dispensing_due(user=request.user, study=request.study),
            "today": staff_today(sites=sites_visible_to(request.user, request.study)),
            "allocation": allocation_list_summaries(study=request.study),
        },
    )


@study_role_required(Role.PHARMACIST)
@require_POST
def dispense(request: StudyRequest, study: str) -> HttpResponse:
    """Dispense one kit (a row's button on the pharmacy page); back to the page with the result."""
    form = DispenseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That dispensing was not understood; use a button of the list.")
        return redirect(_url("randomization:pharmacy", request))
    data = form.cleaned_data
    try:
        participant = participant_get(
            study=request.study,
            code=data["participant"],
            sites=sites_visible_to(request.user, request.study),
        )
        kit = kit_get(study=request.study, code=data["kit"])
        dispensing = kit_dispense(
            participant=participant, visit=data["visit"], kit=kit, actor=request.user
        )
    except (*REFUSALS, NotFoundError) as error:
        messages.error(request, error.message)
    else:
        visit = next(
            d.visit_text
            for d in dispensing_list(participant=participant)
            if d.visit == dispensing.visit
        )
        messages.success(request, f"Kit {kit.code} dispensed to {participant.code}: {visit}.")
    return redirect(_url("randomization:pharmacy", request))


@require_safe
@study_role_required(Role.PHARMACIST)
def kits(request: StudyRequest, study: str) -> HttpResponse:
    """The kit inventory with contents (each view is recorded), and forms to add kits."""
    return render(
        request,
        "randomization/kits.html",
        {
            "page": inventory_page(user=request.user, study=request.study),
            "generate_form": KitGenerateForm(),
            "import_form": KitImportForm(),
        },
    )


@study_role_required(Role.PHARMACIST)
@require_POST
def kits_generate(request: StudyRequest, study: str) -> HttpResponse:
    """Make kits of every arm and level; back to the inventory."""
    form = KitGenerateForm(request.POST)
    if form.is_valid():
        try:
            batch = kit_inventory_generate(
                study=request.study,
                per_arm_and_level=form.cleaned_data["per_arm_and_level"],
                actor=request.user,
            )
        except REFUSALS as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{batch.size} kits made under new random codes.")
            return redirect(_url("randomization:kits", request))
    return _kits_with_forms(request, generate_form=form)


@study_role_required(Role.PHARMACIST)
@require_POST
def kits_import(request: StudyRequest, study: str) -> HttpResponse:
    """Import a supplier's kit list; every problem of a refused file is listed on the page."""
    form = KitImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.files.get("file")
        source = getattr(upload, "name", None) or "kits.csv"
        try:
            batch = kit_inventory_import(
                study=request.study,
                csv_text=form.cleaned_data["file"],
                source=source,
                actor=request.user,
            )
        except KitImportInvalidError as error:
            form.add_error("file", error.message.splitlines()[0])
            for problem in error.problems:
                form.add_error("file", problem)
        except REFUSALS as error:
            form.add_error("file", error.message)
        else:
            messages.success(request, f"{batch.size} kits imported from {batch.filename}.")
            return redirect(_url("randomization:kits", request))
    return _kits_with_forms(request, import_form=form)


def _kits_with_forms(
    request: StudyRequest,
    *,
    generate_form: KitGenerateForm | None = None,
    import_form: KitImportForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "randomization/kits.html",
        {
            "page": inventory_page(user=request.user, study=request.study),
            "generate_form": generate_form or KitGenerateForm(),
            "import_form": import_form or KitImportForm(),
        },
    )


@require_safe
@study_role_required(Role.PHARMACIST)
def allocation_lists(request: StudyRequest, study: str) -> HttpResponse:
    """The allocation lists by stratum (how far used; no contents), and the strata without one."""
    return _allocation_page(request, AllocationGenerateForm(strata=_strata(request)))


def _strata(request: StudyRequest) -> list[str]:
    return allocation_strata_without_list(study=request.study)


def _allocation_page(request: StudyRequest, form: AllocationGenerateForm) -> HttpResponse:
    return render(
        request,
        "randomization/allocation_lists.html",
        {
            "summaries": allocation_list_summaries(study=request.study),
            "form": form,
            "has_missing": bool(_strata(request)),
        },
    )


@study_role_required(Role.PHARMACIST)
@require_POST
def allocation_generate(request: StudyRequest, study: str) -> HttpResponse:
    """Generate the allocation list of one stratum; its contents stay unread until opened."""
    form = AllocationGenerateForm(request.POST, strata=_strata(request))
    if form.is_valid():
        try:
            generated = allocation_list_generate(
                study=request.study,
                stratum=form.cleaned_data["stratum"],
                size=form.cleaned_data["size"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Allocation list of stratum {generated.stratum} generated: {generated.size} "
                f"slots; its seed is recorded.",
            )
            return redirect(_url("randomization:allocation_lists", request))
    return _allocation_page(request, form)


@require_safe
@study_role_required(Role.PHARMACIST)
def allocation_list(request: StudyRequest, study: str) -> HttpResponse:
    """One stratum's allocation list, slot by slot; the read is recorded in the audit trail."""
    stratum = request.GET.get("stratum", "")
    lists = (
        allocation_list_read(user=request.user, study=request.study, stratum=stratum)
        if stratum
        else []
    )
    if not lists:
        raise NotFoundError(
            f"Study {request.study.slug!r} has no allocation list of stratum {stratum!r}; "
            f"choose one on the allocation lists page.",
            extra={"stratum": stratum},
        )
    return render(request, "randomization/allocation_list.html", {"allocation": lists[0]})


@require_safe
@study_role_required(Role.PHARMACIST, Role.STATISTICIAN)
def enrolment(request: StudyRequest, study: str) -> HttpResponse:
    """Randomized participants by sequence and status: unblinded roles only, each view recorded."""
    rows = enrolment_by_sequence_read(user=request.user, study=request.study)
    partial = "HX-Request" in request.headers and "HX-History-Restore-Request" not in (
        request.headers
    )
    template = "randomization/_enrolment.html" if partial else "randomization/enrolment.html"
    response = render(request, template, {"rows": rows})
    patch_vary_headers(response, ["HX-Request"])
    return response
