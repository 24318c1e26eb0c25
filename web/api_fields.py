"""Typed fields of the /api/v1 schemas: each states a limit once and is refused by it.

A field carries its bound (``Text(MAX_TITLE)``, ``Int(1, MAX_ID)``, ``Choice(JobState)``);
loading a request refuses what is outside it through the input policy (:mod:`mam.inputs`,
translated refusals), and :func:`field_properties` writes the same bound into the OpenAPI
document (maxLength, pattern, minimum, maximum, enum). A limit changed here changes both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, fields

from mam import inputs
from mam.errors import InvalidInput

# What the input policy accepts (mam/inputs.py), as patterns: no control characters; text
# fields with several lines keep tab and newline.
LINE = "^[^\u0000-\u001f\u007f-\u009f]*$"
LINES = "^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
NOT_BLANK = r"[^\s]"  # at least one character that is not white space
INT64 = 2**31


def _refused(exc: InvalidInput) -> ValidationError:
    """Return a marshmallow error that carries the input policy's (translatable) refusal."""
    return ValidationError([exc])


class Text(fields.String):
    """Text of at most ``max_length`` characters, one line unless ``lines``.

    ``required_text``: must hold a character that is not white space.
    """

    def __init__(
        self,
        max_length: int,
        *,
        lines: bool = False,
        required_text: bool = False,
        pattern: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.max_length, self.lines, self.required_text = max_length, lines, required_text
        self.pattern = pattern
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        name = self.data_key or attr or "text"
        try:
            text = inputs.clean_text(
                raw, name, self.max_length, required=self.required_text, multiline=self.lines
            )
            if len(raw) > self.max_length:  # the document bounds what is sent, spaces too
                raise inputs.too_long(name, self.max_length)
        except InvalidInput as exc:
            raise _refused(exc) from None
        return text


class Int(fields.Integer):
    """A whole number within ``minimum``..``maximum``: a JSON number, or (``digits``, in a
    URL's query) ASCII digits."""

    def __init__(self, minimum: int, maximum: int, *, digits: bool = False, **kwargs: Any) -> None:
        self.minimum, self.maximum, self.digits = minimum, maximum, digits
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, str if self.digits else int):
            raise self.make_error("invalid")
        try:
            return inputs.parse_int(
                value, self.data_key or attr or "number", minimum=self.minimum, maximum=self.maximum
            )
        except InvalidInput as exc:
            raise _refused(exc) from None


class Choice(fields.String):
    """One value of ``enum`` (refused by naming the allowed values)."""

    def __init__(self, enum: type[StrEnum], **kwargs: Any) -> None:
        self.enum = enum
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> StrEnum:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return inputs.parse_choice(raw, self.data_key or attr or "value", self.enum)
        except InvalidInput as exc:
            raise _refused(exc) from None


def field_properties(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: the bounds of the fields above, for the document."""
    if isinstance(field, Text):
        pattern = field.pattern or (LINES if field.lines else LINE)
        if field.required_text and not field.pattern:
            pattern = f"^(?=\\s*{NOT_BLANK}){LINE[1:]}"
        return {"maxLength": field.max_length, "pattern": pattern} | (
            {"minLength": 1} if field.required_text else {}
        )
    if isinstance(field, Int):
        wide = {"format": "int64"} if field.maximum >= INT64 else {}
        return {"minimum": field.minimum, "maximum": field.maximum, **wide}
    if isinstance(field, Choice):
        return {"enum": [m.value for m in field.enum]}
    return {}
