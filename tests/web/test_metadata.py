"""Episode metadata form, subtitles, version stack, topic admin and the search page."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from mam import search
from mam.models import Episode, User, VersionState
from mam.models.catalogue import Topic
from mam.runtime import Runtime
from tests import factories
from tests.web.conftest import csrf_from

INFO = {"container": "mp4", "duration": 2.0, "video": [], "audio": []}


def make_episode(
    runtime: Runtime, title: str = "基层党建", versions: int = 1, owner: str | None = "producer"
) -> int:
    """Make an episode of 时代风采, a programme ``owner`` is the responsible producer of."""
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.READY, title=title)
        v.asset.media_info = INFO
        if owner is not None:
            producer = s.scalar(select(User).where(User.username == owner))
            v.episode.programme.producer_id = producer.id if producer else None
        for n in range(2, versions + 1):
            extra = factories.version(s, VersionState.UPLOADED, title=f"tmp{n}")
            extra.asset.media_info = INFO
            tmp_episode = extra.episode
            extra.episode = v.episode
            extra.number = n
            s.flush()
            s.delete(tmp_episode)
        search.index_episode(s, v.episode_id)
        s.commit()
        return v.episode_id


def test_producer_edits_metadata_and_search_finds_it(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    episode_id = make_episode(runtime, versions=2)
    login("producer")
    page = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert 'data-testid="version-stack"' in page and page.count('data-testid="stack-version"') == 2
    assert "upload?episode_id=" in page.replace("/upload?", "upload?")
    token = csrf_from(page)
    form = {
        "csrf_token": token,
        "title": "基层党建 <新>",
        "number": "3",
        "source": "imported",
        "synopsis": "介绍现代农业技术",
        "producer": "张编导",
        "production_date": "2024-05-01",
        "language": "四川话",
        "rights_holder": "省电教馆",
        "rights_expiry": "2030-12-31",
        "keywords": "果树, 修剪",
        "topics": ["党的建设", "文化生活"],
    }
    r = client.post(f"/episodes/{episode_id}/metadata", data=form)
    assert r.status_code == 302
    page = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert "基层党建 &lt;新&gt;" in page  # escaped
    assert "四川话" in page and "省电教馆" in page and "2030-12-31" in page
    hits = client.get("/search?q=农业").get_data(as_text=True)
    assert "基层党建 &lt;新&gt;" in hits
    hits = client.get("/search?q=修剪").get_data(as_text=True)
    assert 'data-testid="search-hit"' in hits

    bad = {**form, "production_date": "去年", "csrf_token": token}
    page = client.post(
        f"/episodes/{episode_id}/metadata", data=bad, follow_redirects=True
    ).get_data(as_text=True)
    assert "制作日期：“去年”不是日期（请按 2026-12-01 的格式填写）。" in page
    assert 'value="2024-05-01"' in page  # refused, old value kept

    srt = "1\n00:00:01,000 --> 00:00:02,000\n你好\n".encode("gbk")
    r = client.post(
        f"/episodes/{episode_id}/subtitles",
        data={"csrf_token": token, "language": "zh", "file": (io.BytesIO(srt), "a.srt")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert "a.srt" in page
    sub_url = page.split('href="/subtitles/')[1].split('"')[0]
    vtt = client.get(f"/subtitles/{sub_url}")
    assert vtt.mimetype == "text/vtt" and "00:00:01.000 --> 00:00:02.000" in vtt.get_data(
        as_text=True
    )
    r = client.post(
        f"/episodes/{episode_id}/subtitles",
        data={"csrf_token": token, "file": (io.BytesIO(b"hello"), "b.srt")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = r.get_data(as_text=True)
    assert "b.srt 第 1 行：此处应为字幕序号或时间码。" in html, html[
        html.find("<main>") : html.find("<main>") + 600
    ]


def test_reviewer_cannot_edit_metadata(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    episode_id = make_episode(runtime)
    login("reviewer")
    page = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert 'data-testid="edit-metadata"' not in page
    r = client.post(
        f"/episodes/{episode_id}/metadata", data={"csrf_token": csrf_from(page), "title": "x"}
    )
    assert r.status_code == 403
    with runtime.db.session() as s:
        assert s.get(Episode, episode_id).title == "基层党建"  # type: ignore[union-attr]


def test_search_page_facets_narrow_results(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    make_episode(runtime, "党建引领乡村")
    make_episode(runtime, "农业技术讲座")
    login("reviewer")
    page = client.get("/search?q=党建").get_data(as_text=True)
    assert page.count('data-testid="search-hit"') == 1 and "党建引领乡村" in page
    assert 'data-facet="programme"' in page and 'data-facet="state"' in page
    everything = client.get("/search").get_data(as_text=True)
    assert everything.count('data-testid="search-hit"') == 2
    none = client.get("/search?q=不存在的词").get_data(as_text=True)
    assert 'data-testid="search-hit"' not in none


def test_admin_edits_topics(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    login("admin")
    page = client.get("/topics").get_data(as_text=True)
    for name in ("理论学习", "党的建设", "先进典型", "警示教育", "政策法规", "科技富民/农业技术"):
        assert name in page
    token = csrf_from(page)
    client.post("/topics", data={"csrf_token": token, "action": "add", "name": "乡村振兴"})
    with runtime.db.session() as s:
        topic = s.scalar(select(Topic).where(Topic.name == "乡村振兴"))
        assert topic is not None and topic.active
        topic_id = topic.id
    client.post("/topics", data={"csrf_token": token, "action": "toggle", "topic_id": topic_id})
    with runtime.db.session() as s:
        assert not s.get(Topic, topic_id).active  # type: ignore[union-attr]
    login_as_producer = client.post("/logout", data={"csrf_token": token})
    assert login_as_producer.status_code == 302
