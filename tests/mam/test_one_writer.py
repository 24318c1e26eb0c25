"""One writer each: only mam/statemachine.py writes a ``state``, only mam/audit.py builds an
AuditEvent row. Checked on the syntax tree of every module of the four packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mam", "workers", "web", "storage")
STATEFUL = {"Version", "Job", "UploadSession", "ReleaseSet", "ReleasePackage"}


def _modules() -> list[Path]:
    found = [
        p
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if "migrations" not in p.parts
    ]
    assert len(found) > 50  # the walk found the code
    return found


def _state_writes(tree: ast.AST) -> list[int]:
    """Return the lines that assign a ``state`` attribute or pass ``state=`` to a model."""
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            elts = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            lines += [
                node.lineno for e in elts if isinstance(e, ast.Attribute) and e.attr == "state"
            ]
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            keywords = {k.arg for k in node.keywords}
            if (name in STATEFUL or name == "values") and "state" in keywords:
                lines.append(node.lineno)
            if name == "setattr" and len(node.args) > 1:
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and arg.value == "state":
                    lines.append(node.lineno)
    return lines


def _audit_rows(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "AuditEvent"
    ]


def test_the_checks_see_what_they_look_for() -> None:
    sample = ast.parse(
        "job.state = 1\n"
        "a.state, a.progress = 1, 2\n"
        "setattr(p, 'state', 3)\n"
        "Job(kind=k, state=s)\n"
        "update(Job).values(state=s)\n"
        "AuditEvent(action='x')\n"
        "state = 4\n"
        "job.other = 5\n"
    )
    assert _state_writes(sample) == [1, 2, 3, 4, 5]
    assert _audit_rows(sample) == [6]


@pytest.mark.parametrize(
    ("check", "allowed"),
    [(_state_writes, "mam/statemachine.py"), (_audit_rows, "mam/audit.py")],
)
def test_only_one_module_writes(check: object, allowed: str) -> None:
    offenders = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel == allowed:
            continue
        lines = check(ast.parse(path.read_text(encoding="utf-8")))  # type: ignore[operator]
        offenders += [f"{rel}:{n}" for n in lines]
    assert offenders == []
