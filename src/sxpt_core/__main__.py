"""Run the ``sxpt`` command as ``python -m sxpt_core``."""

from sxpt_core.cli import main

main()
