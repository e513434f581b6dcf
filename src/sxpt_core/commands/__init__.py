"""Subcommands of ``sxpt`` defined outside ``cli.py``.

Each module here defines click commands on :data:`sxpt_core.cli.main`; ``cli.py``
imports this package after defining ``main``, which imports every module in it.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
