"""The registry of message codes: what the domain says to people, by a stable name.

Decision: a message has a dotted **code** (``media.unreadable``) that never changes and an
English **template** (the gettext msgid, marked with ``N_`` so ``pybabel extract`` collects
it) with ``%(name)s`` placeholders. Rows store the code and the parameters (``Job.error_code``
and ``error_params``, a QC finding's ``code`` and ``params``); pages, the API, the CLI and
e-mail look the code up here and translate the template in the reader's language. Rewording
the English text therefore never orphans stored rows, and API clients can rely on the code.

Every code is defined once, in one of the area modules of this package; :func:`all_messages`
imports them all so a test can enumerate (and translate) every code.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mam.i18n import render

REGISTRY: dict[str, Message] = {}


@dataclass(frozen=True)
class Message:
    """One thing the domain says: a stable dotted code and its English template (msgid)."""

    code: str
    template: str

    def render(self, params: Mapping[str, object] | None, translate: Callable[[str], str]) -> str:
        """Return the message in the language of ``translate`` with ``params`` filled in."""
        return render(self.template, params, translate)


def message(code: str, template: str) -> Message:
    """Register ``code`` with its English ``template`` (call it with an ``N_`` literal)."""
    if code in REGISTRY:
        raise ValueError(f"message code {code!r} is defined twice")
    REGISTRY[code] = Message(code, template)
    return REGISTRY[code]


def all_messages() -> list[Message]:
    """Return every registered message (imports every area module of this package)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return sorted(REGISTRY.values(), key=lambda m: m.code)


def render_stored(
    code: str | None,
    params: Mapping[str, object] | None,
    fallback: str | None,
    translate: Callable[[str], str],
) -> str:
    """Render a stored (code, params); rows from before codes show their English ``fallback``."""
    all_messages()
    found = REGISTRY.get(code or "")
    if found is None:
        return fallback or ""
    return found.render(params, translate)
