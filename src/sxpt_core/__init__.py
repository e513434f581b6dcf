"""sxpt: the rules of China's national undergraduate internship reporting, as a library."""

from __future__ import annotations

__version__ = "0.1.0"
