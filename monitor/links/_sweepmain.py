"""`python -m monitor.links._sweepmain`: the sweep worker process (monitor/links/_sweepworker.py).

A module of its own, which the package never imports, so that running it does not find the
worker module already imported by `monitor.links` (runpy warns, and the module would run twice).
"""

from monitor.links._sweepworker import main

main()
