"""The one mechanism every stateful row moves by: a literal transition table per model and
``StateMachine.fire``, the only code that writes a ``state`` and its audit row.

A table maps (state, event) to a rule: the target state, the roles that may fire the event,
whether a reason is required. Anything absent is refused, whoever asks. Every stateful row
carries an optimistic counter (``lock_version``, SQLAlchemy's ``version_id_col``), so of two
actors that race on one row exactly one wins at flush; ``expected_lock_version`` (what a
person's page showed) refuses a stale request before anything is written.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from mam.audit import OBJECT_LABELS, AuditAction, ObjectType, record, state_label
from mam.errors import Conflict, NotAllowed
from mam.i18n import N_, Label
from mam.models import AuditEvent, Role, User

St = TypeVar("St", bound=enum.StrEnum)
Ev = TypeVar("Ev", bound=enum.StrEnum)


class Stateful(Protocol):
    """A row with a state, an id and an optimistic counter."""

    id: Any
    state: Any
    lock_version: int


@dataclass(frozen=True)
class Rule(Generic[St]):
    target: St
    roles: frozenset[Role]
    needs_reason: bool = False


def rule(target: St, *roles: Role, needs_reason: bool = False) -> Rule[St]:
    """Return the rule "move to ``target``; ``roles`` may do it"."""
    return Rule(target, frozenset(roles), needs_reason)


class StateMachine(Generic[St, Ev]):
    """One model's transition table and the function that applies it."""

    def __init__(self, object_type: ObjectType, table: Mapping[tuple[St, Ev], Rule[St]]) -> None:
        self.object_type = object_type
        self.table = dict(table)
        for _state, event in self.table:
            AuditAction(event.value)  # every event is an audited action (ValueError otherwise)

    def allowed_events(self, state: St, roles: frozenset[Role]) -> list[Ev]:
        """List the events ``roles`` may fire from ``state`` (for showing buttons)."""
        return [ev for (st, ev), r in self.table.items() if st == state and r.roles & roles]

    def check(
        self,
        obj: Stateful,
        event: Ev,
        actor: User | None,
        *,
        reason: str | None = None,
        expected_lock_version: int | None = None,
    ) -> Rule[St]:
        """Return the rule that lets ``actor`` fire ``event`` on ``obj``, or raise."""
        params = {
            "object": Label(OBJECT_LABELS[self.object_type]),
            "id": obj.id,
            "state": Label(state_label(self.object_type, obj.state.value)),
        }
        if expected_lock_version is not None and expected_lock_version != obj.lock_version:
            raise Conflict(
                N_("The %(object)s was changed by someone else meanwhile (it is now "
                   "%(state)s); reload the page and try again."),
                params=params, rule="stale", state=obj.state.value,
            )  # fmt: skip
        found = self.table.get((obj.state, event))
        if found is None:
            raise NotAllowed(
                N_("This is not possible now: the %(object)s is %(state)s."),
                params=params, rule="state", state=obj.state.value, event=event.value,
            )  # fmt: skip
        roles = frozenset({Role.SYSTEM}) if actor is None else actor.roles
        if not found.roles & roles:
            raise NotAllowed(
                N_("Your role does not allow this on a %(object)s."),
                params=params, rule="role", event=event.value,
            )  # fmt: skip
        if found.needs_reason and not (reason or "").strip():
            raise NotAllowed(
                N_("This needs a reason."), rule="reason", event=event.value
            )  # fmt: skip
        return found

    def fire(
        self,
        session: Session,
        obj: Stateful,
        event: Ev,
        actor: User | None,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        expected_lock_version: int | None = None,
    ) -> AuditEvent:
        """Move ``obj`` by ``event`` and record who, when, from, to and why (no commit).

        ``actor`` None means the system (a worker, the reconciler, the expiry sweep).
        """
        found = self.check(
            obj, event, actor, reason=reason, expected_lock_version=expected_lock_version
        )
        previous = obj.state
        obj.state = found.target
        # A real UPDATE even when the state stays (a redelivered job starting again), so the
        # optimistic counter is checked and bumped.
        flag_modified(obj, "state")
        return record(
            session,
            AuditAction(event.value),
            actor,
            self.object_type,
            obj.id,
            from_state=previous.value,
            to_state=found.target.value,
            reason=(reason or "").strip() or None,
            details=details,
        )
