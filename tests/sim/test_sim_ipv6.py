"""The simulated portal on [::1] as well as 127.0.0.1 (same port), and its `ipv6:MODE` faults, which
change only what the ::1 listener serves."""

from __future__ import annotations

import http.client

import pytest

from monitor.sim import Fault, SimPortal, ipv6_loopback

NO_IPV6 = ipv6_loopback()


def get(host: str, port: int, path: str = "/") -> tuple[int, str]:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_ipv6_fault_parsing() -> None:
    assert Fault.parse("ipv6:different") == Fault("ipv6", "different")
    with pytest.raises(ValueError, match="takes one of 500, different, refuse, same"):
        Fault.parse("ipv6:sideways")
    with pytest.raises(ValueError, match="needs an argument"):
        Fault.parse("ipv6")


def test_ipv6_faults_need_an_ipv6_portal() -> None:
    with SimPortal() as sim, pytest.raises(ValueError, match="SimPortal\\(ipv6=True\\)"):
        sim.fault("ipv6:different")


@pytest.mark.skipif(bool(NO_IPV6), reason=f"no IPv6 loopback on this machine: {NO_IPV6}")
def test_ipv6_listener_serves_its_own_faults_only() -> None:
    with SimPortal(ipv6=True) as sim:
        same = get("::1", sim.port)
        assert same == get("127.0.0.1", sim.port) and same[0] == 200
        sim.fault("ipv6:different")
        assert get("::1", sim.port)[1] != same[1] and get("127.0.0.1", sim.port) == same
        sim.fault("ipv6:500")
        assert get("::1", sim.port)[0] == 500 and get("127.0.0.1", sim.port)[0] == 200
        sim.fault("ipv6:refuse")
        with pytest.raises(ConnectionRefusedError):
            get("::1", sim.port)
        assert sim.state()["ipv6"] == "refuse" and get("127.0.0.1", sim.port)[0] == 200
        sim.reset()
        assert get("::1", sim.port) == same
