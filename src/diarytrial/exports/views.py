"""The study's database page: lock and unlock (administrator), unblinding (statistician, after
the lock), and downloads of the trial dataset, blinded (coordinator, investigator, statistician,
administrator) or unblinded (the statistician, once unblinded, while locked).

While the study is open the page shows the lock checklist (``studies.readiness``): each item,
how many are open (at the reader's sites), what to do and where. The administrator gets the
lock button when nothing holds the lock back, otherwise a warning and the override reason.

Each action is a POST that calls one service; the services check the roles and states again
and record the audit events (LOCK, UNLOCK, UNBLIND, EXPORT). The lock and the unlock are signed
in the same form (the administrator's password, code and the meaning: ``exports.signing``); the
page shows their signatures, each checked against what it signed.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from diarytrial.core.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    RequestTooLargeError,
    ServiceUnavailableError,
)
from diarytrial.dataset import write_dataset
from diarytrial.exports.certified import CERTIFIED_COPY_LIMIT
from diarytrial.exports.forms import (
    DATASET_FORMAT,
    EXPORT_FORMATS,
    CasebookSignForm,
    CertifiedCopyForm,
    ExportForm,
    LockForm,
    UnblindForm,
    UnlockForm,
)
from diarytrial.exports.services import (
    BLINDED_EXPORT_ROLES,
    certified_copy_make,
    dataset_export,
    study_unblind,
)
from diarytrial.exports.signing import (
    casebook_content,
    casebook_sign,
    casebook_signatures,
    database_signatures,
    study_lock_signed,
    study_unlock_signed,
)
from diarytrial.interop.formats import FORMATS, convert
from diarytrial.participants.pages import CARE_ROLES, participant_of_reader
from diarytrial.studies.access import (
    ALL_ROLES,
    SITE_ROLES,
    StudyRequest,
    sites_visible_to,
    study_role_required,
)
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.readiness import ReadinessItem, lock_readiness
from diarytrial.studies.selectors import study_lock_record
from diarytrial.studies.zones import staff_zone

REFUSALS = (InvalidInputError, ConflictError, StudyLockedError)

CARE = CARE_ROLES
_OPEN_STATUSES = "?status=enrolled&status=randomized&status=active"
CHECKLIST_PAGES: dict[str, tuple[str, str, tuple[Role, ...]]] = {
    "open_participants": ("participants:list", _OPEN_STATUSES, tuple(Role)),
    "side_effects_awaiting_review": ("side_effects:list", "", CARE),
    # The listing's "unresolved" filter shows these among the events still followed up.
    "adverse_events_without_outcome": ("adverse_events:list", "?unresolved=on", tuple(Role)),
    "open_queries": ("queries:list", "", (*CARE, Role.STATISTICIAN, Role.ADMINISTRATOR)),
}
"""Where each checklist item is done: the route (of the study), its query, who may open it.
An item without a page (or whose page the reader may not open) is shown without a link."""


@dataclass(frozen=True)
class ChecklistLine:
    """One checklist item as the page shows it, with the page where it is done (if any)."""

    item: ReadinessItem
    url: str


def _checklist(request: StudyRequest) -> list[ChecklistLine]:
    study, role = request.study, request.membership.role
    visible = sites_visible_to(request.user, study)
    everywhere = role not in SITE_ROLES or visible.count() == study.sites.count()
    lines = []
    for item in lock_readiness(study, sites=None if everywhere else list(visible)):
        url = ""
        page = CHECKLIST_PAGES.get(item.key)
        if page is not None and role in page[2]:
            try:
                url = reverse(page[0], kwargs={"study": study.slug}) + page[1]
            except NoReverseMatch:
                url = ""
        lines.append(ChecklistLine(item=item, url=url))
    return lines


def _page_url(request: StudyRequest) -> str:
    return reverse("exports:database", kwargs={"study": request.study.slug})


def _page(
    request: StudyRequest,
    *,
    lock_form: LockForm | None = None,
    unlock_form: UnlockForm | None = None,
    unblind_form: UnblindForm | None = None,
) -> HttpResponse:
    role = request.membership.role
    study = request.study
    checklist = _checklist(request) if study.locked_at is None else []
    lock_record = study_lock_record(study) if study.locked_at is not None else None
    open_at_lock: list[tuple[str, int]] = []
    if lock_record is not None and lock_record.open_at_lock:
        labels = {item.key: item.label for item in lock_readiness(study)}
        open_at_lock = [
            (labels.get(key, key.replace("_", " ")), count)
            for key, count in lock_record.open_at_lock.items()
        ]
    blocking = [line for line in checklist if line.item.open and line.item.blocks_lock]
    return render(
        request,
        "exports/database.html",
        {
            "lock_form": lock_form or LockForm(signer=request.user),
            "unlock_form": unlock_form or UnlockForm(signer=request.user),
            "signatures": database_signatures(study),
            "page_zone": staff_zone(sites=study.sites.all()),
            "unblind_form": unblind_form or UnblindForm(),
            "checklist": checklist,
            "blocking": blocking,
            "lock_record": lock_record,
            "open_at_lock": open_at_lock,
            "can_lock": role == Role.ADMINISTRATOR,
            # Also when a refusal is to be shown on the form.
            "can_unblind": role == Role.STATISTICIAN
            and study.unblinded_at is None
            and (study.locked_at is not None or unblind_form is not None),
            "can_export_blinded": role in BLINDED_EXPORT_ROLES,
            "export_formats": EXPORT_FORMATS,
            "can_export_unblinded": role == Role.STATISTICIAN
            and study.locked_at is not None
            and study.unblinded_at is not None,
        },
    )


@require_safe
@study_role_required(*ALL_ROLES)
def database(request: StudyRequest, study: str) -> HttpResponse:
    """Whether the database is locked and the study unblinded, and what the reader may do."""
    return _page(request)


@study_role_required(Role.ADMINISTRATOR)
@require_POST
def lock(request: StudyRequest, study: str) -> HttpResponse:
    """Lock the database for analysis: from then on every change to the study's data is refused."""
    form = LockForm(request.POST, signer=request.user)
    if form.is_valid():
        try:
            study_lock_signed(
                study=request.study,
                reason=form.cleaned_data["reason"],
                override_reason=form.cleaned_data["override_reason"],
                credentials=form.credentials(),
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                "The database is locked and the lock signed: its data can no longer change.",
            )
            return redirect(_page_url(request))
    return _page(request, lock_form=form)


@study_role_required(Role.ADMINISTRATOR)
@require_POST
def unlock(request: StudyRequest, study: str) -> HttpResponse:
    """Unlock the database so that its data can be changed again."""
    form = UnlockForm(request.POST, signer=request.user)
    if form.is_valid():
        try:
            study_unlock_signed(
                study=request.study,
                reason=form.cleaned_data["reason"],
                credentials=form.credentials(),
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                "The database is unlocked and the unlock signed: its data can change again.",
            )
            return redirect(_page_url(request))
    return _page(request, unlock_form=form)


@study_role_required(Role.STATISTICIAN)
@require_POST
def unblind(request: StudyRequest, study: str) -> HttpResponse:
    """Unblind the study for its statistician, after the lock."""
    form = UnblindForm(request.POST)
    if form.is_valid():
        try:
            study_unblind(
                study=request.study, reason=form.cleaned_data["reason"], actor=request.user
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                "The study is unblinded for you: the unblinded dataset can be downloaded.",
            )
            return redirect(_page_url(request))
    return _page(request, unblind_form=form)


@study_role_required(*BLINDED_EXPORT_ROLES)
@require_POST
def download(request: StudyRequest, study: str) -> HttpResponse:
    """The trial dataset as a ZIP: of its folder (CSV files, protocol, datapackage.json), or of
    the files of another format (`diarytrial.interop.formats`), written from the same dataset,
    blinded or not."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the blinded or the unblinded dataset, and a format listed.")
        return redirect(_page_url(request))
    blinded = form.cleaned_data["kind"] == "blinded"
    fmt: str = form.cleaned_data["format"]
    try:
        dataset = dataset_export(study=request.study, actor=request.user, blinded=blinded, fmt=fmt)
    except REFUSALS as error:
        messages.error(request, error.message)
        return redirect(_page_url(request))
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "dataset"
        if fmt == DATASET_FORMAT:
            write_dataset(dataset, written)
        else:
            try:
                convert(dataset, fmt, written)
            except ValueError as error:
                messages.error(
                    request, f"The dataset cannot be written as {FORMATS[fmt].name}: {error}"
                )
                return redirect(_page_url(request))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(written.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(written).as_posix())
    kind = "blinded" if blinded else "unblinded"
    suffix = "" if fmt == DATASET_FORMAT else f"-{fmt}"
    name = f"{request.study.slug}-{kind}{suffix}-{timezone.now():%Y%m%d-%H%M}.zip"
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def casebook(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """A participant's casebook: what it holds, its sign-offs (each checked against the data
    now), and for an investigator, while the database is open, the form to sign it off."""
    found = participant_of_reader(request, participant)
    investigator = request.membership.role == Role.INVESTIGATOR
    posted = request.method == "POST"
    if posted and not investigator:
        raise PermissionDeniedError(
            "Only an investigator signs off a casebook; you can read its signatures here.",
            extra={"participant": found.code},
        )
    may_sign = investigator and request.study.locked_at is None
    form = CasebookSignForm(request.POST if posted else None, signer=request.user)
    if form.is_valid():
        try:
            casebook_sign(participant=found, credentials=form.credentials())
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"The casebook of {found.code} is signed off.")
            return redirect(
                reverse(
                    "exports:casebook",
                    kwargs={"study": request.study.slug, "participant": found.code},
                )
            )
    content = casebook_content(found)
    return render(
        request,
        "exports/casebook.html",
        {
            "participant": found,
            "form": form,
            "may_sign": may_sign,
            "signatures": casebook_signatures(found),
            "counts": {
                "diary entries": len(content["diary"]),
                "adverse events": len(content["adverse_events"]),
                "dose levels": len(content["dose_levels"]),
                "end-of-visit answers": len(content["pgic"]) + len(content["blinding_answers"]),
                "screening answers": len(content["eligibility"]),
                "consents": len(content["consents"]),
            },
            "page_zone": staff_zone(site=found.site),
        },
    )


COPY_REFUSALS = (*REFUSALS, RequestTooLargeError, ServiceUnavailableError)


@require_http_methods(["GET", "POST"])
@study_role_required(Role.INVESTIGATOR)
def certified_copy(request: StudyRequest, study: str) -> HttpResponseBase:
    """The investigator's certified copy of their sites' data: the form (GET), and on a valid
    signature the signed ZIP (POST); a refusal shows the form again with what to do."""
    sites = list(sites_visible_to(request.user, request.study).order_by("code"))
    posted = request.method == "POST"
    form = CertifiedCopyForm(request.POST if posted else None, signer=request.user, sites=sites)
    status = 200
    if form.is_valid():
        try:
            copy = certified_copy_make(
                study=request.study, credentials=form.credentials(), site=form.chosen_site()
            )
        except COPY_REFUSALS as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            response = FileResponse(
                copy.file,
                as_attachment=True,
                filename=copy.name,
                content_type="application/zip",
            )
            response["Cache-Control"] = "no-store"
            return response
    elif posted:
        status = 422
    return render(
        request,
        "exports/certified_copy.html",
        {
            "form": form,
            "sites": sites,
            "limit": CERTIFIED_COPY_LIMIT,
            "page_zone": staff_zone(sites=sites),
        },
        status=status,
    )
