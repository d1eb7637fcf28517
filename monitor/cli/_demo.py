"""`monitor demo`: the whole product against a simulated portal."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config.yaml and monitor.db here (default: a new temporary directory).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=30,
    show_default=True,
    help="Days of generated history before the live part.",
)
@click.option(
    "--live",
    "live_s",
    type=click.FloatRange(8, 600),
    default=20.0,
    show_default=True,
    help="Seconds the daemon runs against the simulated portal.",
)
def demo(workdir: Path | None, days: int, live_s: float) -> None:
    """See the whole product in under a minute, with no internet: a simulated bureau portal, a month of
    generated history, the daemon live while the homepage goes down and back, then status and reports."""
    import tempfile

    from monitor.logs import setup_logging
    from monitor.sim import DemoPlan, run_demo

    setup_logging("warning")
    target = workdir or Path(tempfile.mkdtemp(prefix="portal-monitor-demo-"))
    run_demo(DemoPlan(target, days=days, live_s=live_s), click.echo)
