"""Redis primary lost (issue #17): with REDIS_URL=sentinel://..., a storm of webhooks while
the Redis primary is SIGKILLed and Sentinel promotes its replica. The web server and the
worker (with beat) keep running: every 2xx is processed exactly once, deliveries accepted
after the failover too, and /readyz is ready again without a restart.

Real peers: a redis-server primary, a replica and three redis-sentinel processes (Debian
packages redis-server and redis-sentinel; `.ci/run` installs them), on free local ports in
the test's tmp dir."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import requests

from incidents.models import Alert, AlertDelivery, DeliveryStatus, Incident, IncidentEvent
from tests.peers import free_port
from tests.storm import Storm, post_alert
from tests.support import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.peer,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("redis-server") and shutil.which("redis-sentinel")),
        reason="needs the redis-server and redis-sentinel programs (Debian packages "
        "redis-server and redis-sentinel; .ci/run installs them)",
    ),
]

MASTER = "mymaster"
SENDERS = 6
KILL_AFTER_SECONDS = 3.0
STORM_AFTER_FAILOVER_SECONDS = 4.0


class RedisSentinelGroup:
    """A primary, one replica and three sentinels (quorum 2), each its own process."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.processes: dict[str, subprocess.Popen] = {}
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"sentinel://{hosts}/{MASTER}/0"

    def start(self) -> None:
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._spawn("primary", ["redis-server", "--port", str(self.primary_port), *common])
        self._spawn(
            "replica",
            [
                "redis-server",
                "--port",
                str(self.replica_port),
                *common,
                "--replicaof",
                "127.0.0.1",
                str(self.primary_port),
            ],
        )
        for n, port in enumerate(self.sentinel_ports):
            config = self.directory / f"sentinel-{n}.conf"  # each sentinel rewrites its own
            config.write_text(
                f"port {port}\n"
                "bind 127.0.0.1\n"
                f"dir {self.directory}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self._spawn(f"sentinel-{n}", ["redis-sentinel", str(config)])
        wait_for(self._ready, timeout=30, interval=0.2, message=self._not_ready_message())

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.directory / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            args,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def sentinel(self, n: int = 0) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[n], socket_timeout=1, decode_responses=True)

    def _ready(self) -> bool:
        """The replica is in sync and every sentinel knows it and the two other sentinels."""
        try:
            replica = redis.Redis(port=self.replica_port, socket_timeout=1)
            if replica.info("replication").get("master_link_status") != "up":
                return False
            for n in range(3):
                master = self.sentinel(n).sentinel_master(MASTER)
                if master["num-slaves"] != 1 or master["num-other-sentinels"] != 2:
                    return False
            return True
        except redis.RedisError:
            return False

    def _not_ready_message(self) -> str:
        return f"the Redis primary, replica and sentinels did not come up; see {self.directory}"

    def primary_address(self) -> tuple[str, int] | None:
        for n in range(3):
            try:
                host, port = self.sentinel(n).sentinel_get_master_addr_by_name(MASTER)
                return host, int(port)
            except (redis.RedisError, TypeError, ValueError):
                continue
        return None

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        for name in self.processes:
            self.kill(name)


@pytest.fixture
def redis_sentinels(tmp_path):
    directory = tmp_path / "redis"
    directory.mkdir()
    group = RedisSentinelGroup(directory)
    try:
        group.start()
        yield group
    finally:
        group.stop()


def test_the_cache_follows_the_promoted_replica(redis_sentinels):
    from config.redis_sentinel import SentinelRedisCache

    group = redis_sentinels
    cache = SentinelRedisCache(
        group.url,
        {"KEY_PREFIX": "t", "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}},
    )
    cache.set("before", "kept", timeout=60)
    assert cache.get("before") == "kept"
    # The raw client the deliveries kick takes from the cache reaches the primary too.
    kick = cache._cache.get_client(write=True)
    assert kick.info("replication")["role"] == "master"
    assert kick.wait(1, 2000) == 1  # the replica has the key before the primary dies

    group.kill("primary")
    wait_for(
        lambda: group.primary_address() == ("127.0.0.1", group.replica_port),
        timeout=30,
        message="Sentinel did not promote the replica",
    )

    def written_after_failover() -> bool:
        try:
            return cache.add("after", "new", timeout=60)
        except redis.RedisError:  # connections to the dead primary fail first
            return False

    wait_for(written_after_failover, timeout=10, interval=0.1, message="cache stuck")
    assert (cache.get("before"), cache.get("after")) == ("kept", "new")
    assert kick.info("server")["tcp_port"] == group.replica_port


def test_nothing_accepted_is_lost_or_doubled_when_the_redis_primary_is_lost(
    redis_sentinels, integration, worker_env, make_worker, make_web
):
    _, token = integration
    group = redis_sentinels
    worker_env["REDIS_URL"] = group.url
    worker_env["PAGERLINE_CLAIM_TIMEOUT_SECONDS"] = "5"
    worker_env["PAGERLINE_REDRIVE_AFTER_SECONDS"] = "1"
    web = make_web("web")
    worker = make_worker("-B", name="worker")
    # Pagerline reaches the primary through Sentinel: the kick flag lands there.
    wait_for(lambda: _ready(web.url), timeout=10, message="/readyz is not ready before the storm")

    storm = Storm(
        f"{web.url}/hooks/alertmanager/{token}",
        attempts=3,  # a refused or failed post is sent again (a sender's retry)
        retry_pause=0.1,
        pause=0.01,  # a modest storm: the machine is shared
    )
    probe = ReadinessProbe(web.url)
    with storm.running(SENDERS, also=[lambda: probe.run(storm.stop)]):
        started = time.time()
        wait_for(lambda: time.time() - started > KILL_AFTER_SECONDS, timeout=10)
        accepted_before_kill = len(storm.accepted)
        group.kill("primary")
        killed = time.time()
        wait_for(
            lambda: group.primary_address() == ("127.0.0.1", group.replica_port),
            timeout=30,
            interval=0.05,
            message="Sentinel did not promote the replica",
        )
        promoted = time.time()
        wait_for(lambda: time.time() - promoted > STORM_AFTER_FAILOVER_SECONDS, timeout=10)
    stopped = time.time()

    accepted_ids, keys = storm.delivery_ids(), storm.keys()
    after_failover = {a.delivery for a in storm.accepted if a.at > promoted}
    assert accepted_before_kill > 20, f"the storm was too small: {accepted_before_kill}"
    assert after_failover, "no delivery was accepted after the failover"

    # /readyz checks the broker: unavailable while the primary is gone, ready again on the
    # promoted replica with no restart.
    wait_for(lambda: _ready(web.url), timeout=20, message="/readyz not ready after failover")
    unready = [when for when, status in probe.seen if status != 200 and when > killed]
    last_unready = max(unready, default=killed)
    ready_again = next(
        (when for when, status in probe.seen if status == 200 and when > last_unready),
        time.time(),
    )
    wait_for(
        lambda: not AlertDelivery.objects.exclude(status=DeliveryStatus.PROCESSED).exists(),
        timeout=60,
        interval=0.2,
        message="deliveries left unprocessed after the failover",
    )
    caught_up = time.time()
    # The worker survived the loss of its broker connection and still takes new work.
    assert worker.process.poll() is None, f"the worker exited; see {worker.log_path}"
    later = post_alert(web.url, token, "later", timeout=5)
    wait_for(
        lambda: AlertDelivery.objects.filter(id=later, status=DeliveryStatus.PROCESSED).exists(),
        timeout=20,
        message="a delivery sent after the storm was not processed",
    )
    keys.add("later")

    stored = set(AlertDelivery.objects.values_list("id", flat=True))
    assert accepted_ids <= stored, "a delivery that got a 2xx is missing"
    assert (
        AlertDelivery.objects.filter(id__in=after_failover)
        .exclude(status=DeliveryStatus.PROCESSED)
        .count()
        == 0
    )
    # Exactly once: one incident per accepted key, one alert each, no doubled events.
    assert set(Incident.objects.values_list("dedup_key", flat=True)) == keys
    assert Incident.objects.count() == len(keys)
    assert Alert.objects.count() == len(keys)
    assert IncidentEvent.objects.filter(kind="alert_fired").count() == len(keys)
    assert IncidentEvent.objects.filter(kind="triggered").count() == len(keys)
    # The worker's broker connection and the cache now live on the promoted replica.
    promoted_redis = redis.Redis(port=group.replica_port, socket_timeout=1)
    assert promoted_redis.info("replication")["role"] == "master"
    assert promoted_redis.dbsize() > 0
    print(
        f"\naccepted {len(accepted_ids)} deliveries ({len(after_failover)} after the failover), "
        f"{storm.failed} posts refused or failed; promoted {promoted - killed:.1f}s after "
        f"the kill; /readyz answered 503 {len(unready)} times, ready again "
        f"{ready_again - killed:.1f}s after the kill; all processed "
        f"{caught_up - stopped:.1f}s after the storm ended; /readyz said {probe.complaints}"
    )


class ReadinessProbe:
    """Polls /readyz a few times a second, noting (when, status); 0 for no answer; `when`
    is wall-clock time, as the storm's."""

    def __init__(self, base: str):
        self.base = base
        self.seen: list[tuple[float, int]] = []
        self.complaints: set[str] = set()  # what /readyz said when it was not ready

    def run(self, stop: threading.Event) -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                response = session.get(f"{self.base}/readyz", timeout=5)
                status = response.status_code
                if status != 200:
                    self.complaints.add(response.json().get("message", ""))
            except (requests.RequestException, ValueError):
                status = 0
            self.seen.append((time.time(), status))
            time.sleep(0.25)


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
