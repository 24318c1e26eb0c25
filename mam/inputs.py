"""The one input policy: every text, number and choice a person or a file supplies.

Web forms, the JSON API, tus headers, the CLI and import manifests all pass what they are
given through these functions, so one rule holds whatever the entry point:

- text is NFC-normalised, trimmed, well-formed Unicode (no lone surrogates, no
  noncharacters), free of control characters (tab and newline only where a field is
  multi-line) and bounded in length;
- numbers are ASCII digits only (``str.isdigit()`` and ``int()`` also take "²" and "١٢")
  within bounds that fit a 64-bit signed database integer;
- a choice among fixed values names the allowed values when it is refused.

Every refusal is an :class:`~mam.errors.InvalidInput` with an English template marked for
translation and its parameters kept apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from mam.errors import InvalidInput
from mam.i18n import N_, Label

# Largest id a database integer column holds (PostgreSQL BIGINT, SQLite INTEGER).
MAX_ID = 2**63 - 1
# Multi-line fields keep these; every other C0/C1 control character is refused.
MULTILINE_KEEP = frozenset("\n\t")
_ASCII_INT = re.compile(r"[0-9]+")
_ASCII_SIGNED = re.compile(r"[+-]?[0-9]+")
E = TypeVar("E", bound=StrEnum)
# How fields are called in messages (translated where shown); others go by their own name.
FIELD_NAMES = {
    "title": N_("title"),
    "name": N_("name"),
    "programme": N_("programme"),
    "synopsis": N_("synopsis"),
    "notes": N_("notes"),
    "reason": N_("reason"),
    "place": N_("place"),
    "comment": N_("comment"),
    "number": N_("episode number"),
    "producer": N_("producer"),
    "language": N_("language"),
    "rights_holder": N_("rights holder"),
    "holder": N_("rights holder"),
    "contract_ref": N_("contract reference"),
    "starts_on": N_("licence start"),
    "ends_on": N_("licence end"),
    "viewers": N_("viewers"),
    "villages": N_("villages"),
    "playback_points": N_("playback points"),
    "page": N_("page"),
    "year": N_("year"),
    "state": N_("state"),
    "source": N_("source"),
    "production_date": N_("production date"),
    "rights_expiry": N_("rights expiry"),
    "topics": N_("topics"),
    "keywords": N_("keywords"),
    "phone": N_("phone"),
    "contact": N_("contact person"),
    "township": N_("township"),
    "organisation": N_("organisation"),
    "address": N_("address"),
    "kind": N_("kind"),
    "label": N_("label"),
    "medium": N_("medium"),
    "themes": N_("themes"),
    "note": N_("remark"),
    "party_members": N_("party members"),
    "masses": N_("masses"),
    "outcome": N_("outcome"),
    "point": N_("playback point"),
    "username": N_("user name"),
    "display_name": N_("display name"),
}


def label(field: str) -> Label:
    """Return the name of ``field`` as shown in messages (translated where shown)."""
    return Label(FIELD_NAMES.get(field, field))


def _bad_char(ch: str, *, multiline: bool) -> bool:
    if multiline and ch in MULTILINE_KEEP:
        return False
    return unicodedata.category(ch) in ("Cc", "Cs")  # control characters, lone surrogates


def invalid_char(text: str, *, multiline: bool = False) -> str | None:
    """Return the first character ``text`` may not contain, or None."""
    for ch in text:
        if _bad_char(ch, multiline=multiline):
            return ch
    return None


def clean_text(
    value: object,
    field: str,
    limit: int,
    *,
    required: bool = True,
    multiline: bool = False,
) -> str:
    """Return ``value`` as a clean text of at most ``limit`` characters, or refuse it.

    NFC-normalised and trimmed; refused when empty (if ``required``), too long, or holding
    a control character (tab/newline allowed if ``multiline``) or a lone surrogate.
    """
    raw = "" if value is None else value if isinstance(value, str) else str(value)
    if multiline:
        raw = raw.replace("\r\n", "\n")
    text = raw.strip()
    bad = invalid_char(text, multiline=multiline)
    if bad is not None:
        raise InvalidInput(
            N_("%(field)s must not contain control characters (U+%(code)04X)"),
            params={"field": label(field), "code": ord(bad)},
            field=field,
        )
    text = unicodedata.normalize("NFC", text)
    if required and not text:
        raise InvalidInput(
            N_("%(field)s must not be empty"), params={"field": label(field)}, field=field
        )
    if len(text) > limit:
        raise too_long(field, limit)
    return text


def too_long(field: str, limit: int) -> InvalidInput:
    """Return the refusal of a text longer than ``limit`` characters."""
    return InvalidInput(
        N_("%(field)s is longer than %(limit)s characters"),
        params={"field": label(field), "limit": limit},
        field=field,
    )


def optional_text(value: object, field: str, limit: int, *, multiline: bool = False) -> str:
    """Like :func:`clean_text`, but an empty value is an empty string."""
    return clean_text(value, field, limit, required=False, multiline=multiline)


def parse_int(
    value: object,
    field: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_ID,
    signed: bool = False,
) -> int:
    """Parse a whole number written in ASCII digits, within ``minimum``..``maximum``."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        number = value
    else:
        text = ("" if value is None else str(value)).strip()
        pattern = _ASCII_SIGNED if signed else _ASCII_INT
        if not pattern.fullmatch(text):
            raise InvalidInput(
                N_("%(field)s must be a whole number, not %(value)s"),
                params={"field": label(field), "value": repr(text[:40])},
                field=field,
            )
        # More digits than any bound allows is out of range, without converting them.
        number = int(text) if len(text.lstrip("+-0")) <= 20 else maximum + 1
    if not minimum <= number <= maximum:
        raise InvalidInput(
            N_("%(field)s must be between %(minimum)s and %(maximum)s"),
            params={"field": label(field), "minimum": minimum, "maximum": maximum},
            field=field,
        )
    return number


def optional_int(
    value: object, field: str, *, minimum: int = 0, maximum: int = MAX_ID
) -> int | None:
    """Parse a whole number like :func:`parse_int`; empty or missing is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_int(value, field, minimum=minimum, maximum=maximum)


def parse_id(value: object, field: str) -> int:
    """Parse a database id (1 .. 2**63-1)."""
    return parse_int(value, field, minimum=1)


def lenient_id(value: object) -> int | None:
    """Return ``value`` as a database id, or None when it is not one (filters, lists)."""
    try:
        return parse_id(value, "id")
    except InvalidInput:
        return None


def ids(values: Iterable[object]) -> list[int]:
    """Return the valid ids among ``values`` (checkbox lists), in order, once each."""
    out: list[int] = []
    for value in values:
        ident = lenient_id(value)
        if ident is not None and ident not in out:
            out.append(ident)
    return out


def parse_choice(value: object, field: str, enum: type[E]) -> E:
    """Return the member of ``enum`` whose value is ``value``, or refuse listing the choices."""
    text = "" if value is None else str(value)
    try:
        return enum(text)
    except ValueError:
        raise InvalidInput(
            N_("%(field)s must be one of: %(allowed)s"),
            params={"field": label(field), "allowed": ", ".join(m.value for m in enum)},
            field=field,
            allowed=[m.value for m in enum],
        ) from None


def optional_choice(value: object, field: str, enum: type[E]) -> E | None:
    """Like :func:`parse_choice`; empty or missing is None."""
    if value is None or value == "":
        return None
    return parse_choice(value, field, enum)


def well_formed(value: object) -> bool:
    """Say whether a decoded JSON value holds only well-formed Unicode (no lone surrogates)."""
    if isinstance(value, str):
        return not any(unicodedata.category(ch) == "Cs" for ch in value)
    if isinstance(value, dict):
        return all(well_formed(k) and well_formed(v) for k, v in value.items())
    if isinstance(value, list):
        return all(well_formed(v) for v in value)
    return True
