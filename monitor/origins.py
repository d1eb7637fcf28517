"""Which URLs belong to a site: the one "same site" rule for redirects, discovery and `discover`;
and URLs without credentials (`user:password@`), which are never stored or printed.

A URL is on the site when it has the site's scheme, host and port; or the same host on the
default ports with the other scheme (an http -> https upgrade); or a host:port listed in
`allowed_hosts` (a bare host there means its default ports; the site's own host is judged by
the first two rules only, so its other ports need an explicit `host:port` entry). Pure, no I/O.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lower-cased; None for anything else or a bad port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def host_port(url_origin: tuple[str, str, int]) -> str:
    """`host` on the scheme's default port, else `host:port` (how allowed_hosts entries are written)."""
    scheme, host, port = url_origin
    return host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"


def same_site(url: str, home: str, allowed_hosts: Sequence[str] = ()) -> bool:
    """Whether `url` may be requested on behalf of the site whose own URL is `home`."""
    target, own = origin(url), origin(home)
    if target is None or own is None:
        return False
    if target == own or (_on_default_port(target) and _on_default_port(own) and target[1] == own[1]):
        return True
    entry = host_port(target)
    if entry == own[1]:
        return False  # the site's own host, listed bare (config adds it): its port was judged above
    return entry in {allowed.lower() for allowed in allowed_hosts}


def _on_default_port(url_origin: tuple[str, str, int]) -> bool:
    return url_origin[2] == DEFAULT_PORTS[url_origin[0]]


def without_userinfo(url: str) -> str:
    """The URL without `user:password@`: credentials must never be stored (items, pages) or printed."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # unparseable (a bad IPv6 literal): cut what would be the userinfo anyway
        return _USERINFO.sub(r"\1", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def basic_authorization(url: str) -> str | None:
    """The `Authorization: Basic` value for a URL's `user:password@`, or None when it has none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" not in parts.netloc:
        return None
    user, _, password = parts.netloc.rpartition("@")[0].partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return f"Basic {token}"
