"""``mam check``: load what every role reads at start and say what is missing.

The image build runs it (docker/Dockerfile), so an image that would stop at start with
"profiles file not found" or untranslated pages is never built.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable

import click

from mam import migrate
from mam.cli import Context, cli, pass_ctx
from mam.config import Settings


def _profiles(settings: Settings) -> str:
    from workers.profiles import SHIPPED, load_profiles  # noqa: PLC0415 - mam stays celery-free

    profiles = load_profiles(settings.profiles)
    names = ", ".join(r.name for r in profiles.renditions)
    return f"{names} ({settings.profiles or SHIPPED})"


def _celery(settings: Settings) -> str:
    import importlib  # noqa: PLC0415

    from workers.celery_app import TASK_MODULES, celery_config  # noqa: PLC0415

    conf = celery_config(settings)
    for module in TASK_MODULES:
        importlib.import_module(module)
    queues = ", ".join(q.name for q in conf["task_queues"])
    return f"queues {queues}; {len(TASK_MODULES)} task modules"


def _migrations(settings: Settings, database: bool) -> str:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    script = ScriptDirectory.from_config(migrate.alembic_config(settings.database_url))
    heads = script.get_heads()
    if not heads:
        raise RuntimeError(f"no migrations in {migrate.MIGRATIONS}")
    text = f"{len(list(script.walk_revisions()))} revisions, head {', '.join(sorted(heads))}"
    if database:
        current = migrate.current(settings.database_url)
        if current not in heads:
            raise RuntimeError(f"database at {current}, not at {', '.join(heads)}: mam db upgrade")
        text += "; database is up to date"
    return text


# What the workers ask of ffmpeg: encoders, filters (the one-decode graph, HDR tone mapping,
# CH1/CH2 pairs, stills, QC, logo and burned-in captions) and muxers.
FFMPEG_NEEDS = {
    "encoders": ("libx264", "aac", "mjpeg"),
    "filters": (
        "aformat", "aresample", "asplit", "blackdetect", "bwdif", "colorchannelmixer",
        "concat", "drawtext", "fps", "freezedetect", "idet", "join", "loudnorm", "overlay",
        "scale", "select", "setpts", "setsar", "silencedetect", "split", "subtitles",
        "thumbnail", "tile", "tonemap", "zscale",
    ),
    "muxers": ("mp4", "hls", "image2", "null"),
}  # fmt: skip


def _listed(kind: str) -> set[str]:
    """Return the names ``ffmpeg -<kind>`` lists (the second word of each entry line)."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", f"-{kind}"], capture_output=True, text=True, check=True,
        timeout=30,
    ).stdout  # fmt: skip
    names = set()
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 2 and not line.startswith(" ---") and "=" not in words[0]:
            names.add(words[1])
    return names


def _media() -> str:
    """ffmpeg and ffprobe on the PATH with every encoder, filter and muxer the workers use,
    and a Chinese font for burned-in captions (an image without them fails only on the
    first film that needs them)."""
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found on the PATH (apt-get install ffmpeg)")
    missing = [
        f"{kind[:-1]} {name}"
        for kind, names in FFMPEG_NEEDS.items()
        for name in names
        if name not in _listed(kind)
    ]
    if missing:
        raise RuntimeError(f"this ffmpeg lacks {', '.join(missing)}")
    fonts = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False,
        timeout=30,
    ).stdout.strip() if shutil.which("fc-list") else ""  # fmt: skip
    if not fonts:
        raise RuntimeError(
            "no Chinese font for burned-in captions (apt-get install fonts-noto-cjk)"
        )
    version = subprocess.run(
        ["ffmpeg", "-hide_banner", "-version"], capture_output=True, text=True, check=True,
        timeout=30,
    ).stdout.split()[2]  # fmt: skip
    counts = ", ".join(f"{len(v)} {k}" for k, v in FFMPEG_NEEDS.items())
    return f"ffmpeg {version}: {counts}; Chinese font {fonts.splitlines()[0].split(',')[0]}"


def _templates(ctx: Context) -> str:
    from web import create_app  # noqa: PLC0415 - mam needs flask only for this check

    app = create_app(runtime=ctx.runtime)  # the app's filters, globals and extensions
    env = app.jinja_env
    names = [n for n in env.list_templates() if n.endswith(".html")]
    if not names:
        raise RuntimeError("no templates in the web package")
    for name in names:
        env.get_template(name)  # compiles: a syntax error names the file and line
    return f"{len(names)} templates compile"


def _translations() -> str:
    from babel.support import Translations  # noqa: PLC0415

    from web import TRANSLATIONS  # noqa: PLC0415

    catalogues = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))
    if not catalogues:
        raise RuntimeError(f"no compiled catalogue in {TRANSLATIONS} (pybabel compile)")
    found = []
    for mo in catalogues:
        with mo.open("rb") as fh:
            translations = Translations(fh)
        if translations.gettext("Sign in") == "Sign in":
            raise RuntimeError(f"{mo} does not translate 'Sign in'")
        found.append(mo.parts[-3])
    return f"compiled: {', '.join(found)}"


@cli.command()
@click.option(
    "--database/--no-database",
    default=False,
    show_default=True,
    help="Also check that the database answers and is at the latest migration.",
)
@click.option(
    "--media/--no-media",
    default=False,
    show_default=True,
    help="Also check ffmpeg (encoders, filters, muxers the workers use) and a Chinese font.",
)
@pass_ctx
def check(ctx: Context, database: bool, media: bool) -> None:
    """Load settings, profiles, migrations, templates and translations (``--media``: and
    check ffmpeg and the fonts a worker needs); exit 1 if one fails."""
    try:
        settings = ctx.settings
    except click.ClickException as exc:
        click.secho(f"FAIL settings: {exc.message}", fg="red", err=True)
        sys.exit(1)
    checks: list[tuple[str, Callable[[], object]]] = [
        ("settings", lambda: f"database {settings.database_url.split('://')[0]}, "
                             f"storage {settings.storage_backend}, "
                             f"broker {settings.broker_url.split('://')[0]}"),
        ("profiles", lambda: _profiles(settings)),
        ("celery", lambda: _celery(settings)),
        ("migrations", lambda: _migrations(settings, database)),
        ("templates", lambda: _templates(ctx)),
        ("translations", _translations),
    ]  # fmt: skip
    if media:
        checks.append(("media", _media))
    failed = 0
    for name, run in checks:
        try:
            detail = run()
        except Exception as exc:  # noqa: BLE001 - each check reports whatever broke it
            failed += 1
            click.secho(f"FAIL {name}: {exc}", fg="red", err=True)
        else:
            click.echo(f"ok   {name}: {detail}")
    if failed:
        sys.exit(1)
