"""Run the ``sxpt-server`` command as ``python -m sxpt_server``."""

from sxpt_server.cli import main

main()
