"""`python -m monitor.check._readmain`: the read worker process (monitor/check/_readworker.py).

A module of its own, which the package never imports, so that running it does not find the
worker module already imported by `monitor.check` (runpy warns, and the module would run twice).
"""

from monitor.check._readworker import main

main()
