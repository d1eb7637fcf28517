"""The `digest:` section: who gets the daily digest mail and through which SMTP server."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from monitor.config._fields import Strict, Timeout, no_nul

_ADDRESS_RE = re.compile(r"^[^@\s<>,;\x00-\x1f\x7f]+@[^@\s<>,;\x00-\x1f\x7f]+\.[^@\s<>,;\x00-\x1f\x7f]+$")


def _address(value: str) -> str:
    """A bare mail address (local@domain.tld): no display name, no list, no control characters."""
    if not _ADDRESS_RE.match(value):
        raise ValueError(f"not a mail address like name@example.gov.cn: {value!r}")
    return value


MailAddress = Annotated[str, AfterValidator(_address)]


class SmtpConfig(Strict):
    """How `monitor digest` sends mail. The password comes from a file or an environment
    variable, never from config.yaml, and is never logged."""

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-\[\]:]+$")
    port: int = Field(465, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = Field(None, min_length=1, max_length=320)
    password_file: Annotated[str, AfterValidator(no_nul)] | None = None
    password_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout: Timeout = 30.0

    @model_validator(mode="after")
    def _one_password_source(self) -> SmtpConfig:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give password_file or password_env, not both")
        if self.username is not None and self.password_file is None and self.password_env is None:
            raise ValueError("username needs password_file or password_env")
        return self


class DigestConfig(Strict):
    """The daily digest mail (`monitor digest`, run by systemd/portal-monitor-digest.timer)."""

    to: list[MailAddress] = Field(min_length=1, max_length=100)
    sender: MailAddress
    smtp: SmtpConfig
