"""Test TLS material made with `cryptography`: a private CA and certificates for 127.0.0.1/localhost.

`write_certs(directory)` writes the CA and four server certificates (valid, self-signed, expired,
wrong host) as PEM files, ready for `SimPortal(tls=...)` and `Fetcher(ca_file=...)` or SSL_CERT_FILE.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Issuer = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


@dataclass(frozen=True)
class Certs:
    ca: Path
    pairs: dict[str, tuple[str, str]]
    """(certificate PEM path, key PEM path) by variant name."""
    not_after: dict[str, float]


def make_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(
    subject_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    names: list[x509.GeneralName],
    not_after: dt.datetime,
    issuer: Issuer | None = None,
    is_ca: bool = False,
) -> x509.Certificate:
    """A certificate for `names`, signed by `issuer` (or by itself when None)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (subject, subject_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def write_certs(directory: Path) -> Certs:
    """A CA, and certificates for 127.0.0.1/localhost: valid, self-signed, expired, wrong host."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca_key = make_key()
    ca = make_cert(ca_key, "monitor test CA", [], now + dt.timedelta(days=3650), is_ca=True)
    local = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    variants: dict[str, tuple[list[x509.GeneralName], dt.datetime, Issuer | None]] = {
        "valid": (local, now + dt.timedelta(days=90), (ca, ca_key)),
        "self_signed": (local, now + dt.timedelta(days=30), None),
        "expired": (local, now - dt.timedelta(days=2), (ca, ca_key)),
        "wrong_host": ([x509.DNSName("wrong.example")], now + dt.timedelta(days=60), (ca, ca_key)),
    }
    pairs, not_after = {}, {}
    for name, (names, expiry, issuer) in variants.items():
        key = make_key()
        cert = make_cert(key, f"monitor test {name}", names, expiry, issuer)
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        pairs[name] = (str(cert_path), str(key_path))
        not_after[name] = expiry.timestamp()
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return Certs(ca_path, pairs, not_after)
