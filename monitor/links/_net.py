"""Name resolution with a per-checker cache, and the rule on private addresses.

A link found in remote content may point anywhere, including the monitor's own network: a host
that resolves to a loopback, private, link-local or otherwise non-global address is refused unless
it is one of the configured site's own hosts (tests serve their sites on 127.0.0.1: that is an
explicit allowance, not a hole). The checker connects to the address checked here, never to a
second resolution, so a name cannot resolve to a public address for the check and a private one
for the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Resolved:
    """The addresses of a host, or why there are none (`missing`: the name definitely does not exist)."""

    addresses: tuple[str, ...] = ()
    error: str | None = None
    missing: bool = False


_MISSING_CODES = frozenset(
    code for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None)) if code is not None
)


class Resolver:
    """getaddrinfo on the event loop, each host once per resolver (a sweep asks once per host)."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int], asyncio.Future[Resolved]] = {}
        self._known: dict[tuple[str, int], Resolved] = {}

    async def resolve(self, host: str, port: int) -> Resolved:
        """The host's addresses (asked once; concurrent askers share the one lookup)."""
        key = (host.lower(), port)
        known = self._known.get(key)
        if known is not None:
            return known  # the common case: no future, no shield, no await
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(_lookup(host, port))
        self._known[key] = answer = await asyncio.shield(pending)
        self._pending.pop(key, None)
        return answer


async def _lookup(host: str, port: int) -> Resolved:
    if is_ip(host):
        return Resolved((host,))
    if host == "invalid" or host.endswith(".invalid"):
        # RFC 6761: the reserved TLD never resolves; answer without asking the network.
        return Resolved(error=f"cannot resolve {host}: reserved .invalid name (RFC 6761)", missing=True)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return Resolved(error=f"cannot resolve {host}: {exc.strerror or exc}", missing=exc.errno in _MISSING_CODES)
    except (OSError, UnicodeError) as exc:
        return Resolved(error=f"cannot resolve {host}: {exc}")
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    return Resolved(addresses) if addresses else Resolved(error=f"cannot resolve {host}: no address", missing=True)


def is_ip(host: str) -> bool:
    """True for an IPv4 or IPv6 literal (brackets allowed): nothing to resolve."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def refused_address(host: str, addresses: tuple[str, ...], private_hosts: frozenset[str]) -> str | None:
    """Why connecting to `host` at `addresses` is refused, or None when it is allowed."""
    if host.lower() in private_hosts:
        return None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            return f"refused: {host} resolves to a non-public address ({address})"
    return None
