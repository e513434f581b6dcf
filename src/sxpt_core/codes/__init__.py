"""Identifier and code-table checks: USCC (GB 32100) and division codes (GB/T 2260)."""
