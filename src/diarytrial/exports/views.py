"""The study's database page: lock and unlock (administrator), unblinding (statistician, after
the lock), and downloads of the trial dataset, blinded (coordinator, investigator, statistician,
administrator) or unblinded (the statistician, once unblinded, while locked).

Each action is a POST that calls one service; the services check the roles and states again
and record the audit events (LOCK, UNLOCK, UNBLIND, EXPORT).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from diarytrial.core.errors import ConflictError, InvalidInputError
from diarytrial.dataset import write_dataset
from diarytrial.exports.forms import ExportForm, LockForm, UnblindForm
from diarytrial.exports.services import BLINDED_EXPORT_ROLES, dataset_export, study_unblind
from diarytrial.studies.access import ALL_ROLES, StudyRequest, study_role_required
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock, study_unlock

REFUSALS = (InvalidInputError, ConflictError, StudyLockedError)


def _page_url(request: StudyRequest) -> str:
    return reverse("exports:database", kwargs={"study": request.study.slug})


def _page(
    request: StudyRequest,
    *,
    lock_form: LockForm | None = None,
    unblind_form: UnblindForm | None = None,
) -> HttpResponse:
    role = request.membership.role
    study = request.study
    return render(
        request,
        "exports/database.html",
        {
            "lock_form": lock_form or LockForm(),
            "unblind_form": unblind_form or UnblindForm(),
            "can_lock": role == Role.ADMINISTRATOR,
            # Also when a refusal is to be shown on the form.
            "can_unblind": role == Role.STATISTICIAN
            and study.unblinded_at is None
            and (study.locked_at is not None or unblind_form is not None),
            "can_export_blinded": role in BLINDED_EXPORT_ROLES,
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
    form = LockForm(request.POST)
    if form.is_valid():
        try:
            study_lock(study=request.study, reason=form.cleaned_data["reason"], actor=request.user)
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The database is locked: its data can no longer change.")
            return redirect(_page_url(request))
    return _page(request, lock_form=form)


@study_role_required(Role.ADMINISTRATOR)
@require_POST
def unlock(request: StudyRequest, study: str) -> HttpResponse:
    """Unlock the database so that its data can be changed again."""
    form = LockForm(request.POST)
    if form.is_valid():
        try:
            study_unlock(
                study=request.study, reason=form.cleaned_data["reason"], actor=request.user
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The database is unlocked: its data can change again.")
            return redirect(_page_url(request))
    return _page(request, lock_form=form)


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
    """The trial dataset as a ZIP of its folder (CSV files, protocol, datapackage.json)."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the blinded or the unblinded dataset.")
        return redirect(_page_url(request))
    blinded = form.cleaned_data["kind"] == "blinded"
    try:
        dataset = dataset_export(study=request.study, actor=request.user, blinded=blinded)
    except REFUSALS as error:
        messages.error(request, error.message)
        return redirect(_page_url(request))
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "dataset"
        write_dataset(dataset, written)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(written.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(written).as_posix())
    kind = "blinded" if blinded else "unblinded"
    name = f"{request.study.slug}-{kind}-{timezone.now():%Y%m%d-%H%M}.zip"
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
