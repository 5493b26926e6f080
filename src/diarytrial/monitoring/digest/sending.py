"""The digest's e-mail: plain text, participant codes and counts only.

It never names an arm, a dose or a period; it names the study and the site, since it goes to
the site team only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from diarytrial.monitoring.digest.selectors import DigestContent


def digest_subject(content: DigestContent) -> str:
    site = content.site
    return (
        f"{site.study.slug} {site.code}, {content.local_date:%Y-%m-%d}: "
        f"{len(content.missed)} missed last night, "
        f"{sum(item.count for item in content.pending)} waiting for review"
    )


def _nights(count: int) -> str:
    return "1 night" if count == 1 else f"{count} nights in a row"


def digest_body(content: DigestContent) -> str:
    """The e-mail's text."""
    site = content.site
    link = f"{settings.SITE_URL}{reverse('digest:settings', kwargs={'study': site.study.slug})}"
    dashboard = (
        f"{settings.SITE_URL}{reverse('monitoring:dashboard', kwargs={'study': site.study.slug})}"
    )
    lines = [
        f"Good morning. The daily digest of site {site.name} ({site.code}) in study "
        f"{site.study.slug}, {content.local_date:%A %d %B %Y}.",
        "",
    ]
    if content.missed:
        lines.append(f"Missed last night's diary ({len(content.missed)}):")
        for line in content.missed:
            last = f"last entry {line.last_entry:%Y-%m-%d}" if line.last_entry else "no entry yet"
            flag = "  <- call them" if line.in_a_row >= 2 else ""
            lines.append(f"  {line.code}: {_nights(line.in_a_row)} missed, {last}{flag}")
        lines.append("")
        if content.flagged:
            lines.append(
                "For 2 or more missed nights in a row: call the participant, check their phone "
                "and, if it was lost or reset, make a new phone link on their page."
            )
            lines.append("")
    else:
        lines += ["Everyone kept last night's diary.", ""]
    if content.pending:
        lines.append("Waiting for review:")
        for item in content.pending:
            lines.append(f"  {item.label}: {item.count}. {item.what_to_do}")
        lines.append("")
    lines += [
        f"The study dashboard: {dashboard}",
        "",
        f"You get this e-mail as a member of the site team. To stop it, or to change when it "
        f"is sent, open {link}",
    ]
    return "\n".join(lines) + "\n"


def digest_email_send(*, content: DigestContent, address: str) -> None:
    """E-mail the digest to `address`; raises what the mail backend raises."""
    send_mail(digest_subject(content), digest_body(content), None, [address], fail_silently=False)
