"""`python -m monitor.sim`: serve the simulated portal until Ctrl-C (see monitor/sim/_portal.py)."""

from monitor.sim._portal import main

main()
