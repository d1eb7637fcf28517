"""Findings from identity readings: elements missing or gone, values disagreeing or changed, page tags.

An element never seen is a low finding (a compliance gap the webmaster fixes at leisure); one that
was there on the previous check and is gone now, a code that disagrees with the configured one, or
the CONAC error badge are high (a footer does not lose its 标识码 by accident). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from monitor.integrity._findings import Finding, Kind
from monitor.integrity._identity import PUBDATE_FORMAT, REQUIRED_TAGS, Element, Identity, TagProfile

SCORE_MISSING = 20
SCORE_GONE = 60
SCORE_DISAGREE = 30
SCORE_CONFIGURED = 60
SCORE_CHANGED = 30
SCORE_CONAC_ERROR = 60
SCORE_TAG = 10


def identity_findings(
    page: str, identity: Identity, *, previous: Identity | None = None, expected_code: str = ""
) -> list[Finding]:
    """Missing, disagreeing and changed identity elements of one page (the homepage as a rule)."""
    findings = _missing(page, identity, previous)
    codes = sorted({code for _, code in identity.site_codes})
    if len(codes) > 1:
        said = ", ".join(f"{source}={code}" for source, code in identity.site_codes)
        findings.append(
            Finding.make(Kind.IDENTITY_MISMATCH, SCORE_DISAGREE, page, "sources_disagree", "site_code", said)
        )
    expected = expected_code.strip().lower()
    if expected and identity.site_code and identity.site_code != expected:
        said = f"page says {identity.site_code}, configured {expected}"
        findings.append(Finding.make(Kind.IDENTITY_MISMATCH, SCORE_CONFIGURED, page, "configured", "site_code", said))
    if identity.conac_error:
        said = "the 党政机关网站标识 shows its error badge"
        findings.append(Finding.make(Kind.IDENTITY_MISMATCH, SCORE_CONAC_ERROR, page, "conac_error", "conac", said))
    if previous is not None:
        findings.extend(_changed(page, identity, previous))
    return findings


def _missing(page: str, identity: Identity, previous: Identity | None) -> list[Finding]:
    findings = []
    before = previous.present() if previous is not None else {}
    for element, present in identity.present().items():
        if present:
            continue
        if before.get(element):
            said = f"{element.value} was {previous.value(element) if previous else ''!r} on the previous check"
            findings.append(Finding.make(Kind.IDENTITY_MISSING, SCORE_GONE, page, "disappeared", element.value, said))
        else:
            said = f"no {element.value} on the page"
            findings.append(Finding.make(Kind.IDENTITY_MISSING, SCORE_MISSING, page, "missing", element.value, said))
    return findings


def standing_gone(standing: Iterable[Finding], current: Sequence[Finding], identity: Identity) -> list[Finding]:
    """`current` with the open "disappeared" findings whose element is still absent kept open (high),
    in place of the low "missing" finding the moved baseline would give it: a 标识码 that went
    stays a high finding until it is back."""
    present = {element.value: on for element, on in identity.present().items()}
    kept = {
        finding.target: finding
        for finding in standing
        if finding.kind is Kind.IDENTITY_MISSING
        and finding.technique == "disappeared"
        and present.get(finding.target) is False
    }
    replaced = [
        finding
        for finding in current
        if not (finding.kind is Kind.IDENTITY_MISSING and finding.target in kept and finding.technique == "missing")
    ]
    new_keys = {finding.key for finding in replaced}
    return replaced + [finding for finding in kept.values() if finding.key not in new_keys]


def _changed(page: str, identity: Identity, previous: Identity) -> list[Finding]:
    findings = []
    for element in Element:
        old, new = previous.value(element), identity.value(element)
        if old and new and old != new:
            said = f"{element.value}: {old!r} -> {new!r}"
            findings.append(Finding.make(Kind.IDENTITY_CHANGED, SCORE_CHANGED, page, "changed", element.value, said))
    return findings


def tag_findings(
    page: str, identity: Identity, profile: TagProfile, *, host: str = "", shown_date: date | None = None
) -> list[Finding]:
    """Page tags missing or empty for the page type, SiteDomain not the host, PubDate malformed or off."""
    tags = dict(identity.tags)
    findings = [
        Finding.make(Kind.PAGE_TAG, SCORE_TAG, page, "missing", name, f"<meta name={name!r}> missing or empty")
        for name in REQUIRED_TAGS[profile]
        if not tags.get(name, "").strip()
    ]
    domain = tags.get("SiteDomain", "").strip().lower()
    if host and domain and domain.split("/")[0] != host.lower():
        said = f"SiteDomain {domain!r}, page host {host!r}"
        findings.append(Finding.make(Kind.PAGE_TAG, SCORE_TAG, page, "site_domain", "SiteDomain", said))
    findings.extend(_pubdate(page, tags.get("PubDate", "").strip(), profile, shown_date))
    return findings


def _pubdate(page: str, pubdate: str, profile: TagProfile, shown: date | None) -> list[Finding]:
    if profile is not TagProfile.ARTICLE or not pubdate:
        return []
    if not PUBDATE_FORMAT.match(pubdate):
        said = f"PubDate {pubdate!r} is not yyyy-MM-dd HH:mm"
        return [Finding.make(Kind.PAGE_TAG, SCORE_TAG, page, "pubdate_format", "PubDate", said)]
    if shown is not None and pubdate[:10] != shown.isoformat():
        said = f"PubDate {pubdate!r}, the page shows {shown.isoformat()}"
        return [Finding.make(Kind.PAGE_TAG, SCORE_TAG, page, "pubdate_disagrees", "PubDate", said)]
    return []
