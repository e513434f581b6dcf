"""Development sessions: tests, lint, typing, docs and benchmarks.

Run ``nox -s tests`` for the test suite; ``nox -l`` lists every session.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]


POSTGRESQL_ENV = "SXPT_TEST_POSTGRESQL"
POSTGRESQL_PORT = "54330"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite and the doctests of the rules.

    The server's store is tested on SQLite and on PostgreSQL. Where PostgreSQL is
    installed (Debian's package) and SXPT_TEST_POSTGRESQL names no server, the session
    starts a throwaway one on 127.0.0.1 for the run.
    """
    session.install("-e", ".[test]")
    if os.environ.get(POSTGRESQL_ENV) or not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        session.run("pytest", *session.posargs)
        return
    folder = tempfile.mkdtemp(prefix="sxpt-postgresql-")
    url = session.run("scripts/postgresql-for-tests.sh", "start", folder, POSTGRESQL_PORT, external=True, silent=True)
    try:
        session.run("pytest", *session.posargs, env={POSTGRESQL_ENV: str(url).strip().splitlines()[-1]})
    finally:
        session.run("scripts/postgresql-for-tests.sh", "stop", folder, external=True)
        shutil.rmtree(folder, ignore_errors=True)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style and common mistakes with ruff."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "scripts", "noxfile.py")


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """Check the types of sxpt_core with mypy."""
    session.install("-e", ".[test]", "mypy>=1.10")
    session.run("mypy")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Regenerate docs/rules.md and docs/rules.en.md from the rule catalogue."""
    session.install("-e", ".")
    session.run("python", "-m", "sxpt_core.ruledocs", "docs")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time sxpt validate and the annotated workbook against their baselines."""
    session.install("-e", ".", "frictionless[excel]>=5.18")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def bench_server(session: nox.Session) -> None:
    """Run the server's load and scale benchmarks on 127.0.0.1.

    ``nox -s bench_server`` runs both with their defaults. ``-- load ARGS`` or
    ``-- scale ARGS`` runs one of them with its arguments, for example
    ``nox -s bench_server -- load --departments 8 --uploads 10 --rows 1000``.
    """
    session.install("-e", ".[postgresql]")
    scripts = {"load": "benchmarks/server_load.py", "scale": "benchmarks/server_scale.py"}
    if not session.posargs:
        for script in scripts.values():
            session.run("python", script)
        return
    if session.posargs[0] not in scripts:
        session.error(f"the first argument must be 'load' or 'scale', not {session.posargs[0]!r}")
    session.run("python", scripts[session.posargs[0]], *session.posargs[1:])
