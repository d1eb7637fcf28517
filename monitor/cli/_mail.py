"""Sending the digest by SMTP (stdlib smtplib): SSL, STARTTLS or plain, with a password read
from a file or an environment variable. The password is never logged nor put in an error; a
failure is one line (`MailError`) naming the server, not a traceback.
"""

from __future__ import annotations

import base64
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from monitor.config import DigestConfig, SmtpConfig


class MailError(Exception):
    """The digest could not be sent; one line for the user."""


def message(config: DigestConfig, subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative UTF-8 mail (the subject is RFC 2047 encoded by the policy)."""
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.to)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[1])
    mail.set_content(text, charset="utf-8")
    mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail


def password(smtp: SmtpConfig) -> str | None:
    """The SMTP password from its file (first line) or environment variable; None without a username."""
    if smtp.username is None:
        return None
    if smtp.password_file is not None:
        try:
            return Path(smtp.password_file).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            reason = getattr(exc, "strerror", None) or "empty or not UTF-8"
            raise MailError(f"cannot read the SMTP password file {smtp.password_file}: {reason}") from None
    value = os.environ.get(smtp.password_env or "")
    if not value:
        raise MailError(f"the SMTP password variable {smtp.password_env} is not set")
    return value


def send(config: DigestConfig, mail: EmailMessage, *, context: ssl.SSLContext | None = None) -> None:
    """Deliver `mail` to every recipient, or raise MailError (one line, never the password)."""
    smtp = config.smtp
    secret = password(smtp)
    where = f"{smtp.host}:{smtp.port}"
    try:
        refused = _deliver(smtp, secret, mail, context or ssl.create_default_context())
    except MailError as exc:
        raise MailError(_scrub(str(exc), smtp, secret)) from None
    except (smtplib.SMTPException, OSError, UnicodeEncodeError) as exc:
        raise MailError(_scrub(_explain(exc, smtp, where), smtp, secret)) from None
    if refused:
        raise MailError(f"SMTP server {where} refused recipients: {', '.join(sorted(refused))}")


def _deliver(smtp: SmtpConfig, secret: str | None, mail: EmailMessage, tls: ssl.SSLContext) -> dict[str, object]:
    """Connect, STARTTLS and log in as configured, send; the recipients refused (some, not all)."""
    where = f"{smtp.host}:{smtp.port}"
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        client.ehlo_or_helo_if_needed()
        if smtp.security == "starttls":
            if not client.has_extn("starttls"):
                raise MailError(
                    f"SMTP server {where} does not offer STARTTLS (security: starttls); for a port that"
                    " starts with TLS (465) use security: ssl"
                )
            client.starttls(context=tls)
        if smtp.username is not None and secret is not None:
            client.ehlo_or_helo_if_needed()  # STARTTLS forgets the first EHLO's extensions
            if not client.has_extn("auth"):
                hint = (
                    " (many servers offer it only over TLS: security: starttls or ssl)"
                    if smtp.security == "none"
                    else ""
                )
                raise MailError(f"SMTP server {where} does not offer a login (SMTP AUTH) on this connection{hint}")
            client.login(smtp.username, secret)
        return dict(client.send_message(mail))


def _explain(exc: BaseException, smtp: SmtpConfig, where: str) -> str:
    """The one line for a failed delivery: what the server refused, or why it could not be reached."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return f"SMTP server {where} refused every recipient: {code} {_text(reply)}"
    if isinstance(exc, UnicodeEncodeError):
        return f"cannot log in to {where}: SMTP AUTH takes an ASCII username and password"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        source = f"file {smtp.password_file}" if smtp.password_file else f"${smtp.password_env}"
        return (
            f"SMTP server {where} refused the login of user {smtp.username!r}: {exc.smtp_code}"
            f" {_text(exc.smtp_error)} (check the username and the password in {source})"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP server {where} refused the digest: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} is not trusted: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError) and exc.reason == "WRONG_VERSION_NUMBER" and smtp.security == "ssl":
        return (
            f"cannot start TLS with {where}: the server answered without TLS (security: ssl on a plain"
            " or STARTTLS port; for port 587 or 25 use security: starttls)"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed: {exc.reason or exc}"
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"cannot send the digest via {where}: {reason}"


def _text(reply: bytes | str) -> str:
    """A server reply's first line."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return (text.splitlines() or [""])[0]


def _scrub(line: str, smtp: SmtpConfig, secret: str | None) -> str:
    """`line` without the password, plain or as an AUTH PLAIN/LOGIN token, should a server echo it."""
    if not secret:
        return line
    forms = [secret, base64.b64encode(secret.encode("utf-8", "replace")).decode()]
    if smtp.username is not None:
        forms.append(base64.b64encode(f"\0{smtp.username}\0{secret}".encode("utf-8", "replace")).decode())
    for form in sorted(forms, key=len, reverse=True):
        line = line.replace(form, "********")
    return line
