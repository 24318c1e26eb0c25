"""Administration: users (roles, review stages), programmes, counties, the chain, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mam import inputs
from mam.audit import OBJECT_LABELS, ObjectType, action_name
from mam.audit_names import Described, describe
from mam.errors import MamError
from mam.models import County, Programme, Role, User
from mam.services.audit import AuditFilter, AuditService
from mam.services.review import ReviewService
from mam.services.review_chain import editors_of, save_programme
from mam.services.sessions import SessionService
from mam.services.users import UserService
from web.auth import allow
from web.extensions import db_session
from web.review import rule_message

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Learners are made by county staff (web/learners.py), never here.
PERSON_ROLES = [r for r in Role if r not in (Role.SYSTEM, Role.LEARNER)]
MAX_PAGE = 100_000  # pages of 100 audit events; bounds the OFFSET the database sees


def _refused(exc: MamError, endpoint: str) -> ResponseReturnValue:
    db_session().rollback()
    flash(rule_message(exc), "error")
    return redirect(url_for(endpoint))


def _users_by_id(ids: list[str]) -> list[User]:
    session = db_session()
    return [u for i in inputs.ids(ids) if (u := session.get(User, i)) is not None]


@bp.route("/")
@allow(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Open the user list."""
    return redirect(url_for("admin.users"))


@bp.route("/users")
@allow(Role.ADMIN)
def users() -> ResponseReturnValue:
    """List accounts with roles, review stages and county."""
    session = db_session()
    review = ReviewService(session)
    people = session.scalars(select(User).order_by(User.username)).all()
    return render_template(
        "admin/users.html",
        people=people,
        grants={u.id: {s.id for s in review.grants(u)} for u in people},
        stages=review.stages(),
        roles=PERSON_ROLES,
        counties=session.scalars(select(County).order_by(County.code)).all(),
    )


@bp.route("/users", methods=["POST"])
@allow(Role.ADMIN)
def create_user() -> ResponseReturnValue:
    """Create an account."""
    form = request.form
    try:
        roles = {Role(r) for r in form.getlist("roles") if r in {p.value for p in PERSON_ROLES}}
        user = UserService(db_session()).create(
            form.get("username", "").strip(),
            form.get("password", ""),
            roles,
            display_name=form.get("display_name", "").strip() or None,
            county_code=form.get("county") or None,
            actor=current_user,
        )
    except MamError as exc:
        return _refused(exc, "admin.users")
    flash(_("Account %(name)s created.", name=user.username), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["POST"])
@allow(Role.ADMIN)
def update_user(user_id: int) -> ResponseReturnValue:
    """Change an account's roles, review stages, e-mail and whether it may sign in."""
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        return redirect(url_for("admin.users"))
    form = request.form
    try:
        roles = {Role(r) for r in form.getlist("roles") if r in {p.value for p in PERSON_ROLES}}
        if roles != set(user.roles):
            UserService(session).set_roles(user, roles, actor=current_user)
        review = ReviewService(session)
        stages = [s.name for s in review.stages() if str(s.id) in form.getlist("stages")]
        if set(stages) != {s.name for s in review.grants(user)}:
            review.set_grants(user, stages, actor=current_user)
        UserService(session).update_account(
            user,
            active=form.get("active") == "1",
            email=form.get("email", "").strip()[:254] or None,
            actor=current_user,
        )
    except MamError as exc:
        return _refused(exc, "admin.users")
    flash(_("Account %(name)s saved.", name=user.username), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@allow(Role.ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    """Give an account a temporary password (shown once) and end all its sessions."""
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        return redirect(url_for("admin.users"))
    temporary = UserService(session).reset_password(user, actor=current_user)
    flash(
        _(
            "Temporary password for %(name)s: %(password)s — give it to them in person; "
            "they must choose a new one when they sign in. It is not shown again.",
            name=user.username,
            password=temporary,
        ),
        "info",
    )
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@allow(Role.ADMIN)
def end_sessions(user_id: int) -> ResponseReturnValue:
    """Sign an account out everywhere (a lost phone, a shared computer)."""
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        return redirect(url_for("admin.users"))
    ended = SessionService(session).end_all(
        user, reason="signed_out_by_admin", actor=current_user
    )
    session.flush()
    flash(_("%(name)s was signed out of %(n)d sessions.", name=user.username, n=ended), "info")
    return redirect(url_for("admin.users"))


@bp.route("/stages", methods=["POST"])
@allow(Role.ADMIN)
def set_stages() -> ResponseReturnValue:
    """Set the review chain from a list of stage names, in order."""
    names = [n for line in request.form.get("stages", "").splitlines() for n in [line.strip()] if n]
    try:
        ReviewService(db_session()).set_chain(names, current_user)
    except MamError as exc:
        return _refused(exc, "admin.users")
    flash(_("Review chain saved."), "info")
    return redirect(url_for("admin.users"))


@bp.route("/programmes")
@allow(Role.ADMIN)
def programmes() -> ResponseReturnValue:
    """List programmes with their responsible producer and editors."""
    session = db_session()
    progs = session.scalars(select(Programme).order_by(Programme.name)).all()
    producers = [
        u
        for u in session.scalars(select(User).order_by(User.username))
        if u.has_role(Role.PRODUCER)
    ]
    return render_template(
        "admin/programmes.html",
        programmes=progs,
        editors={p.id: {u.id for u in editors_of(session, p)} for p in progs},
        producers=producers,
    )


@bp.route("/programmes", methods=["POST"])
@bp.route("/programmes/<int:programme_id>", methods=["POST"])
@allow(Role.ADMIN)
def save(programme_id: int | None = None) -> ResponseReturnValue:
    """Create or update a programme."""
    session = db_session()
    programme = session.get(Programme, programme_id) if programme_id else None
    producer = _users_by_id([request.form.get("producer", "")])
    try:
        save_programme(
            session,
            request.form.get("name", ""),
            producer[0] if producer else None,
            _users_by_id(request.form.getlist("editors")),
            current_user,
            programme=programme,
        )
    except MamError as exc:
        return _refused(exc, "admin.programmes")
    flash(_("Programme saved."), "info")
    return redirect(url_for("admin.programmes"))


@bp.route("/counties", methods=["GET", "POST"])
@allow(Role.ADMIN)
def counties() -> ResponseReturnValue:
    """List counties; add one."""
    session = db_session()
    if request.method == "POST":
        code, name = request.form.get("code", "").strip(), request.form.get("name", "").strip()
        if not code or not name or len(code) > 32 or len(name) > 100:
            flash(_("A county needs a code (up to 32 characters) and a name."), "error")
        else:
            UserService(session).ensure_county(code, name, actor=current_user)
            flash(_("County saved."), "info")
        return redirect(url_for("admin.counties"))
    return render_template(
        "admin/counties.html", counties=session.scalars(select(County).order_by(County.code)).all()
    )


def _filter() -> AuditFilter:
    args = request.args

    def when(name: str) -> datetime | None:
        try:
            value = datetime.fromisoformat(args.get(name, ""))
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return AuditFilter(
        actor=args.get("actor") or None,
        action=args.get("action") or None,
        object_type=args.get("object_type") or None,
        object_id=inputs.optional_int(args.get("object_id"), "object_id"),
        since=when("since"),
        until=when("until"),
    )


@bp.route("/audit")
@allow(Role.ADMIN)
def audit() -> ResponseReturnValue:
    """Show the audit log with filters, every row in words in the reader's language."""
    session = db_session()
    service = AuditService(session)
    page = inputs.optional_int(request.args.get("page"), "page", minimum=1, maximum=MAX_PAGE) or 1
    events = service.events(_filter(), limit=100, offset=(page - 1) * 100)
    older = None
    if len(events) == 100:
        query: dict[str, Any] = {**request.args.to_dict(), "page": str(page + 1)}
        older = url_for("admin.audit", **query)
    return render_template(
        "admin/audit.html",
        rows=[(e, _words(d)) for e, d in zip(events, describe(session, events), strict=True)],
        actions=sorted(((a, _(action_name(a))) for a in service.actions()), key=lambda p: p[1]),
        object_types=[(t.value, _(OBJECT_LABELS[t])) for t in ObjectType],
        people=session.scalars(select(User).order_by(User.username)).all(),
        args=request.args,
        older_url=older,
    )


def _words(d: Described) -> dict[str, str]:
    """Return a described audit row as text in the reader's language."""
    return {
        "sentence": d.sentence.render(_),
        "from": d.from_state.render(_) if d.from_state else "",
        "to": d.to_state.render(_) if d.to_state else "",
    }


@bp.route("/audit.csv")
@allow(Role.ADMIN)
def audit_csv() -> ResponseReturnValue:
    """Download the filtered audit log as CSV (UTF-8 with BOM, for spreadsheets): headers and
    values in the page's language, in English with ``?lang=en``."""
    translate: Callable[[str], str] = str if request.args.get("lang") == "en" else _
    lines = list(AuditService(db_session()).csv_lines(_filter(), translate))
    return Response(
        "\ufeff" + "".join(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )
