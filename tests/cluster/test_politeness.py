"""One host paced across the cluster: turns reserved in Redis (the benchmark measures it on real crawls)."""

from __future__ import annotations

from scrapy.settings import Settings

from archiver.cluster.politeness import Turns, host_delay

from cluster_processes import needs_redis_server, redis_server  # noqa: F401

pytestmark = needs_redis_server


def test_turns_of_one_host_are_a_delay_apart_whoever_asks(redis_server):
    server = redis_server.client(6)
    workers = [Turns(server, "news:politeness", 0.2) for _ in range(3)]  # three workers, one Redis
    waits = [workers[n % 3].reserve("127.0.0.1") for n in range(5)]
    # Each turn a delay after the one before, on Redis' clock (a little of it passed between the calls).
    for n, wait in enumerate(waits):
        assert 0.2 * n - 0.05 <= wait <= 0.2 * n + 0.01, waits
    assert workers[0].reserve("127.0.0.2") == 0  # another host: its own turns


def test_the_cluster_delay_defaults_to_the_download_delay_and_zero_turns_it_off():
    settings = Settings({"DOWNLOAD_DELAY": 1.0})
    assert host_delay(settings) == 1.0
    settings.set("CLUSTER_HOST_DELAY", "0.25")
    assert host_delay(settings) == 0.25
    settings.set("CLUSTER_HOST_DELAY", 0)
    assert host_delay(settings) == 0
