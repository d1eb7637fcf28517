"""The simulated bureau portal (site, HTTP server, faults), synthetic history and `monitor demo`:
for tests, benchmarks and the demo, never used by the monitoring pipeline. See docs/architecture.md.
"""

from monitor.sim._demo import DemoPlan, run_demo
from monitor.sim._faults import HIDDEN_LINK_TARGET, Fault
from monitor.sim._history import HistorySpec, generate
from monitor.sim._portal import SimPage, SimPortal, ipv6_loopback
from monitor.sim._site import COLUMNS, render_bench

__all__ = [
    "COLUMNS",
    "HIDDEN_LINK_TARGET",
    "DemoPlan",
    "Fault",
    "HistorySpec",
    "SimPage",
    "SimPortal",
    "generate",
    "ipv6_loopback",
    "render_bench",
    "run_demo",
]
