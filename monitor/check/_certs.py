"""Read the notAfter date of an X.509 certificate from its DER bytes.

A minimal DER walker for one field, so fetch can report certificate expiry even when verification
is off (`ssl` only decodes verified certificates). No cryptography, no validation of the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime

_SEQUENCE = 0x30
_EXPLICIT_VERSION = 0xA0
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_TIME_FORMATS = {_UTC_TIME: "%y%m%d%H%M%SZ", _GENERALIZED_TIME: "%Y%m%d%H%M%SZ"}


def cert_not_after(der: bytes) -> float:
    """UTC epoch seconds of the certificate's notAfter; ValueError if the DER is not a certificate."""
    _, certificate, _ = _element(der, 0, _SEQUENCE)
    _, pos, _ = _element(der, certificate, _SEQUENCE)  # TBSCertificate
    tag, _, end = _tlv(der, pos)
    if tag == _EXPLICIT_VERSION:
        pos = end
    for _ in ("serialNumber", "signature", "issuer"):
        _, _, pos = _tlv(der, pos)
    _, validity, _ = _element(der, pos, _SEQUENCE)
    _, _, not_after = _tlv(der, validity)  # skip notBefore
    tag, start, end = _tlv(der, not_after)
    if tag not in _TIME_FORMATS:
        raise ValueError(f"notAfter has unexpected tag 0x{tag:02x}")
    return _parse_time(tag, der[start:end])


def _element(der: bytes, pos: int, expected_tag: int) -> tuple[int, int, int]:
    tag, start, end = _tlv(der, pos)
    if tag != expected_tag:
        raise ValueError(f"expected DER tag 0x{expected_tag:02x} at {pos}, got 0x{tag:02x}")
    return tag, start, end


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `pos`."""
    if pos + 2 > len(der):
        raise ValueError("truncated DER")
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        # Indefinite (0) lengths are not DER; more than 4 length bytes is no real certificate.
        if count == 0 or count > 4 or pos + count > len(der):
            raise ValueError("bad DER length")
        length = int.from_bytes(der[pos : pos + count], "big")
        pos += count
    if pos + length > len(der):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _parse_time(tag: int, raw: bytes) -> float:
    try:
        text = raw.decode("ascii")
        moment = datetime.strptime(text, _TIME_FORMATS[tag]).replace(tzinfo=UTC)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"unreadable certificate time {raw!r}") from exc
    # strptime's %y maps 00-68 to 20xx; RFC 5280 says UTCTime years 50-99 are 19xx, 00-49 are 20xx.
    if tag == _UTC_TIME and moment.year >= 2050:
        moment = moment.replace(year=moment.year - 100)
    return moment.timestamp()
