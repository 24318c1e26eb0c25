"""Celery settings that keep long transcodes safe (no broker or worker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings
from workers.celery_app import PROCESS_TASK, celery_config, make_celery
from workers.tasks.processing import backoff


def test_long_jobs_are_acknowledged_late_and_never_redelivered_while_running(home: Path) -> None:
    settings = make_settings(home, broker_url="redis://127.0.0.1:6379/10")
    conf = celery_config(settings)
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    limits = conf["task_annotations"][PROCESS_TASK]
    assert limits == {"soft_time_limit": 6 * 3600, "time_limit": 6 * 3600 + 300}
    # The visibility timeout (Redis redelivers unacknowledged tasks after it) is above the
    # hard limit, for the broker and for the result backend alike.
    for key in ("broker_transport_options", "result_backend_transport_options"):
        assert conf[key]["visibility_timeout"] == 8 * 3600 > limits["time_limit"]
    app = make_celery(settings)
    assert app.amqp.router.route({}, PROCESS_TASK)["queue"].name == "transcode"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"visibility_timeout": 3600, "transcode_time_limit": 7200,
          "transcode_soft_time_limit": 7000}, "MAM_VISIBILITY_TIMEOUT (3600 s) must exceed"),
        ({"transcode_soft_time_limit": 600, "transcode_time_limit": 600},
         "MAM_TRANSCODE_SOFT_TIME_LIMIT (600 s) must be below"),
    ],
)  # fmt: skip
def test_unsafe_limits_are_refused(home: Path, overrides: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        celery_config(make_settings(home, **overrides))


def test_transient_failures_back_off() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 9)] == [30, 120, 480, 1920, 3600]
