"""Fill and send a page's form as a browser would: every field the page carries, plus ours."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    selects: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    textareas: dict[str, str] = field(default_factory=dict)

    def data(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """Return what submitting the form sends: its values, the first or chosen option."""
        values = dict(self.fields)
        for name, options in self.selects.items():
            chosen = [o for o in options if o[2]] or options[:1]
            if chosen:
                values[name] = chosen[0][0]
        values.update(self.textareas)
        values.update(overrides or {})
        return values


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                form.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            form.selects[a["name"]] = []
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value", ""), "selected" in a)
            form.selects[self._select].append((self._option[0], "", self._option[1]))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            form.textareas[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._option is not None and self._select is not None and self.forms:
            options = self.forms[-1].selects[self._select]
            value, text, selected = options[-1]
            options[-1] = (value, text + data, selected)
        if self._textarea is not None and self.forms:
            self.forms[-1].textareas[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def find_form(html: str, action_suffix: str, page_url: str) -> Form:
    """Return the page's form whose action (no action: the page) ends with ``action_suffix``."""
    found = []
    for form in forms(html):
        form.action = urljoin(page_url, form.action or page_url)
        if urlsplit(form.action).path.rstrip("/").endswith(action_suffix.rstrip("/")):
            found.append(form)
    assert found, f"no form posting to …{action_suffix} on {page_url}"
    return found[0]


def submit(
    http: requests.Session,
    page_url: str,
    action_suffix: str,
    overrides: dict[str, str] | None = None,
) -> requests.Response:
    """Load ``page_url``, fill its form for ``action_suffix`` and post it (no redirects)."""
    page = http.get(page_url, timeout=30)
    assert page.status_code == 200, (page_url, page.status_code)
    form = find_form(page.text, action_suffix, page.url)
    return http.request(
        form.method.upper() or "POST",
        form.action,
        data=form.data(overrides),
        allow_redirects=False,
        timeout=60,
    )


def login(base: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    http.headers["Accept-Language"] = "zh-CN"
    response = submit(http, f"{base}/login", "/login", {"username": username, "password": password})
    assert response.status_code == 302, (username, response.status_code, response.text[:500])
    return http
