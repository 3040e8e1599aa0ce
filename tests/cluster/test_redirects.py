"""Redirect sources become aliases in a cluster as in one process, also when a worker that died had requested a
redirect's next hop already: the source, fetched again by another worker, is then dropped at that hop."""

from __future__ import annotations

from archiver.archive.run_log import RunLog
from archiver.archive.storage import Archive
from archiver.cluster.state import StateReplay, WorkerState
from archiver.extraction.normalize import content_hash

from cluster_processes import needs_redis_server, redis_server  # noqa: F401

pytestmark = needs_redis_server

SITE = "http://127.0.0.1:8000"
OLD, HOP, TARGET = f"{SITE}/news/old/1021/", f"{SITE}/news/redirect/?to=%2Fnews%2Fa%2F", f"{SITE}/news/a/"


def test_a_source_dropped_at_the_next_hop_of_its_redirects_is_an_alias_of_where_they_end(redis_server, tmp_path):
    server = redis_server.client(7)
    server.flushdb()
    stream = "news:archive"
    # The target was fetched through a direct link first. A worker read the hop's redirect to it: dropped by the
    # dupefilter, the chain is noted. The worker that had fetched the old URL (and requested the hop) died before
    # its request was acknowledged: another fetched the old URL again, and its redirect to the hop was dropped.
    WorkerState(server, stream).note_redirect([OLD, HOP], TARGET)
    WorkerState(server, stream).note_redirect([OLD], HOP)

    archive = Archive(tmp_path / "archive.db")
    replay = StateReplay(archive, RunLog(archive).open(pid=1), server, stream)
    text, published = "Body text", "2026-11-01"
    replay.save([{"url": TARGET, "title": "A", "text": text, "published": published, "language": "en",
                  "section": "a", "section_url": f"{SITE}/news/", "images": [],
                  "content_hash": content_hash("A", published, text), "fetched_at": "2026-11-02T00:00:00+00:00"}])
    assert replay.finish() == 2
    aliases = archive.db.execute("select u.url, a.url from url_aliases u join articles a on a.id = u.article_id")
    assert sorted(aliases.fetchall()) == sorted([(OLD, TARGET), (HOP, TARGET)])
    assert not server.exists("news:round:redirects")
