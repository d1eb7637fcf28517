"""Sending the digest by SMTP (stdlib smtplib): SSL, STARTTLS or plain, with a password read
from a file or an environment variable. The password is never logged nor put in an error; a
failure is one line (`MailError`) naming the server, not a traceback.
"""

from __future__ import annotations

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
    """Deliver `mail` to every recipient, or raise MailError."""
    smtp = config.smtp
    secret = password(smtp)
    tls = context or ssl.create_default_context()
    where = f"{smtp.host}:{smtp.port}"
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=tls)
            if smtp.username is not None and secret is not None:
                client.login(smtp.username, secret)
            refused = client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        raise MailError(f"SMTP server {where} refused every recipient: {code} {text}") from None
    except UnicodeEncodeError:
        raise MailError(f"cannot log in to {where}: SMTP AUTH takes an ASCII username and password") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise MailError(f"SMTP server {where} refused the digest: {exc.smtp_code} {text.splitlines()[0]}") from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MailError(f"cannot send the digest via {where}: {reason}") from None
    if refused:
        raise MailError(f"SMTP server {where} refused recipients: {', '.join(sorted(refused))}")
