from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient


def test_review_player_has_the_sprite_scrub_preview(login: Callable[[str], FlaskClient],
                                                    ready_version: int) -> None:
    client = login("reviewer")
    html = client.get(f"/review/versions/{ready_version}").get_data(as_text=True)
    assert 'data-testid="scrub"' in html and 'data-scrub-for="player"' in html
    vtt_url = re.search(r'data-vtt-url="([^"]+)"', html)
    assert vtt_url
    with client.get(vtt_url.group(1)) as vtt:
        assert vtt.status_code == 200
        body = vtt.get_data(as_text=True)
    assert body.startswith("WEBVTT") and "#xywh=" in body
