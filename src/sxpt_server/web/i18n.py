"""The language of the pages: Chinese by default, English on request.

Every text that a page shows comes from one catalogue per language,
``catalogue_zh.MESSAGES`` and ``catalogue_en.MESSAGES``, keyed by a dotted name such as
``login.title``. Texts are ``str.format`` templates. A request chooses English with
``?lang=en`` on any page, which stores the choice in the ``sxpt_lang`` cookie; without
the cookie the ``LANGUAGE`` setting decides.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request

from sxpt_server.problems import Problem
from sxpt_server.web import catalogue_en, catalogue_zh

__all__ = [
    "CATALOGUES",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "catalogue_problem",
    "current_language",
    "event_label",
    "field_errors",
    "pick",
    "problem_detail",
    "state_label",
    "translate",
]

LANGUAGES = ("zh", "en")
LANGUAGE_COOKIE = "sxpt_lang"
CATALOGUES: dict[str, dict[str, str]] = {"zh": catalogue_zh.MESSAGES, "en": catalogue_en.MESSAGES}


def current_language() -> str:
    """Return ``zh`` or ``en``: the language cookie, else the ``LANGUAGE`` setting."""
    if not has_request_context():
        return "en" if current_app.config.get("LANGUAGE") == "en" else "zh"
    chosen: str | None = g.get("web_language")
    if chosen is None:
        cookie = request.cookies.get(LANGUAGE_COOKIE)
        if cookie in LANGUAGES:
            chosen = cookie
        else:
            chosen = "en" if current_app.config.get("LANGUAGE") == "en" else "zh"
        g.web_language = chosen
    return chosen


def translate(key: str, **params: Any) -> str:
    """Return the text of ``key`` in the request's language with ``params`` filled in.

    A key missing from the English catalogue falls back to the Chinese text, and a key
    missing from both is shown as itself instead of failing the page.
    """
    language = current_language()
    text = CATALOGUES[language].get(key) or CATALOGUES["zh"].get(key) or key
    return text.format(**params) if params else text


def pick(zh: str, en: str | None) -> str:
    """Return ``zh`` or ``en`` by the request's language; an empty ``en`` falls back to ``zh``."""
    return en if current_language() == "en" and en else zh


def problem_detail(problem: Problem) -> str:
    """Return the sentence of a service's ``Problem`` in the request's language."""
    return pick(problem.detail, problem.detail_en)


def field_errors(problem: Problem) -> dict[str, str]:
    """Return the messages of the invalid fields of a 422 problem, by field name."""
    errors: dict[str, str] = {}
    for item in problem.extra.get("errors") or []:
        if isinstance(item, dict) and item.get("field"):
            errors.setdefault(str(item["field"]), pick(str(item.get("detail", "")), item.get("detail_en")))
    return errors


def state_label(state: str | None) -> str:
    """Return the label of a record state (stored as its Chinese name) in the request's language."""
    if not state:
        return ""
    return translate(f"state.{state}") if f"state.{state}" in CATALOGUES["zh"] else state


def event_label(event: str) -> str:
    """Return the label of an audit event; an event without a label is shown by its code."""
    key = f"event.{event}"
    return translate(key) if key in CATALOGUES["zh"] else event


def catalogue_problem(code: str, key: str, **params: Any) -> Problem:
    """Return a ``Problem`` whose sentences are the catalogue's texts of ``key`` in both languages."""
    zh = CATALOGUES["zh"][key]
    en = CATALOGUES["en"].get(key) or zh
    return Problem(code, zh.format(**params), en.format(**params))
