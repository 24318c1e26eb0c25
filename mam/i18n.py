"""Messages the domain says to people: written in English, translated where they are shown.

The domain imports no web framework, so it cannot translate. It marks a message with
:func:`N_` (so ``pybabel extract`` collects it into the catalogue) and keeps the parameters
apart; whoever shows the message to a person (a page, the API, the CLI) translates the
template and fills in the parameters in that person's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from babel.support import Translations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


class Label(str):
    """A parameter that is itself translated where the message is shown (a field's name)."""

    __slots__ = ()


LIST_SEPARATOR = N_("; ")  # between the parts of a list of nested messages


def render_value(value: object, translate: Callable[[str], str]) -> object:
    """Return a parameter as shown: a Label translated, a nested message (a mapping with
    ``template`` and ``params``) rendered, a list of nested messages rendered and joined."""
    if isinstance(value, Label):
        return translate(value)
    if isinstance(value, Mapping) and isinstance(value.get("template"), str):
        return render(value["template"], value.get("params"), translate)
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return translate(LIST_SEPARATOR).join(str(render_value(v, translate)) for v in value)
    return value


def render(
    template: str, params: Mapping[str, object] | None, translate: Callable[[str], str]
) -> str:
    """Translate ``template`` with ``translate`` and fill in ``params`` (%-style, by name)."""
    text = translate(template)
    if not params:
        return text
    values = {k: render_value(v, translate) for k, v in params.items()}
    try:
        return text % values
    except (KeyError, ValueError, TypeError):
        try:
            return template % {k: render_value(v, str) for k, v in params.items()}
        except (KeyError, ValueError, TypeError):
            return template


# The compiled catalogues (shipped with the web package's data, read here without Flask).
CATALOGUES = Path(__file__).resolve().parent.parent / "web" / "translations"
# Languages with a catalogue, by the first part of a locale name (zh_CN.UTF-8 → zh).
CATALOGUE_LOCALES = {"zh": "zh_Hans_CN"}


def catalogue_locale(locale: str | None) -> str | None:
    """Return the catalogue that serves ``locale`` (``zh_CN.UTF-8``, ``zh-CN``…), or None
    for English (the msgids themselves)."""
    lang = (locale or "").replace("-", "_").split(".")[0].split("_")[0].lower()
    return CATALOGUE_LOCALES.get(lang)


@cache
def translator(locale: str | None) -> Callable[[str], str]:
    """Return a gettext function for ``locale`` (English when it has no catalogue)."""
    name = catalogue_locale(locale)
    if name is None:
        return str
    translations = Translations.load(str(CATALOGUES), [name])
    return translations.gettext
