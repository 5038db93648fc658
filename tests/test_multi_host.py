"""Nothing assumes one host: two web servers and two Celery workers, each in a working
directory of its own (its own ./var), behind a real nginx (Debian package) balancing them
round-robin, on one PostgreSQL and one Redis. A storm of webhooks goes through nginx while
one worker and one web server are SIGKILLed. Nothing accepted is lost, every escalation
step and every notification rule step is recorded exactly once, and every page reaches the
receiver; a page arrives twice only if the killed worker was sending it (docs/escalation.md:
paging twice beats never paging), and those are counted and shown.

Beat runs in one worker only (`-B`); what a second beat would do: docs/operations.md."""

import json
import os
import shutil
import subprocess
import time
from collections import Counter

import psutil
import pytest
import requests
from django.db.models import Count

from incidents.models import (
    AlertDelivery,
    DeliveryStatus,
    EscalationState,
    Incident,
    IncidentEscalation,
    IncidentEvent,
    Notification,
    NotificationRule,
    NotificationStatus,
    PageState,
    PersonalPage,
)
from tests.peers import Receiver, allow_loopback, free_port
from tests.storm import Storm
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.peer, pytest.mark.django_db(transaction=True)]

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
if not NGINX:
    message = "needs Debian's nginx package (apt-get install nginx)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")):
    # Without them each host would use its own ./var: its own SQLite file, its own Redis.
    pytest.skip(
        "several hosts need a shared PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
        allow_module_level=True,
    )

STORM_SECONDS = 8.0
KILL_AT = 3.0
SENDERS = 4
# Each sender's pause between group keys: a modest storm (about 150 incidents), because
# every incident pages two people with two rule steps each and one worker with two
# processes is left to do it all on a shared CI machine.
PACE_SECONDS = 0.15

# Round-robin (nginx's default) over the two servers. `proxy_next_upstream error timeout`
# is nginx's default, written out: a request goes to the other server only when it could
# not be sent to the first (connection refused: the dead server never saw it). A POST that
# was sent and then lost its answer (the server died mid-request) is NOT passed on
# (nginx >= 1.9.13 never retries a non-idempotent request once sent, unless told
# `non_idempotent`): the sender gets a 502 and retries, as Alertmanager does. That retry is
# harmless (a second delivery of one group key updates the same incident), but deciding it
# belongs to the sender, not to the proxy. The request body is buffered by nginx before a
# server is chosen (proxy_request_buffering, the default), so a slow sender holds no
# gunicorn worker.
NGINX_CONF = """\
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '$status $request_method $upstream_addr $upstream_status';
    access_log {tmp}/access.log upstreams;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream pagerline {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 2m;
        location / {{
            proxy_pass http://pagerline;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 15s;
        }}
    }}
}}
"""


class Nginx:
    """A real nginx in the foreground, everything it writes under `tmp`."""

    def __init__(self, tmp, upstream_ports: list[int]):
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tmp.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
            for port in upstream_ports
        )
        # As root, nginx's workers would run as `nobody` and could not use the temp dirs.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = tmp / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, servers=servers, port=self.port))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [NGINX, "-p", str(self.tmp), "-e", str(self.tmp / "error.log"), "-c"]
        command += [str(self.conf), "-g", "daemon off;"]
        subprocess.run([*command, "-t"], check=True, capture_output=True)
        log = (self.tmp / "stdout.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.RequestException:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start; see {self.tmp}/error.log")

    def served(self) -> Counter:
        """How the POSTs went: (status to the sender, the servers tried and their answers)."""
        lines = (self.tmp / "access.log").read_text().splitlines()
        return Counter(
            (status, rest)
            for status, method, rest in (line.split(" ", 2) for line in lines)
            if method == "POST"
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def nginx(tmp_path):
    started: list[Nginx] = []

    def start(upstream_ports: list[int]) -> Nginx:
        proxy = Nginx(tmp_path / "nginx", upstream_ports)
        started.append(proxy)
        proxy.start()
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def receiver(settings, worker_env):
    """Where every page goes: a local HTTP server, allowed for webhooks here and in the
    workers."""
    allow_loopback(settings, worker_env)
    server = Receiver().start()
    yield server
    server.stop()


def _people(team, receiver):
    """alice (step 1) and bob (step 2), each with two webhooks to the receiver and the
    rules "at once: webhook 1; after 2 s: webhook 2" for both urgencies."""
    from incidents.tests.factories import make_contact_method
    from oncall.models import Role
    from oncall.tests.factories import make_membership, make_user

    people = []
    for name in ("alice", "bob"):
        user = make_user(name)
        make_membership(team, user, role=Role.RESPONDER)
        for step, delay in ((1, 0), (2, 2)):
            method = make_contact_method(
                user, kind="webhook", address=f"{receiver.url}/{name}/{step}"
            )
            for urgency in ("high", "low"):
                NotificationRule.objects.create(
                    user=user, urgency=urgency, delay_seconds=delay, contact_method=method
                )
        people.append(user)
    return people


def _arrivals(receiver) -> Counter:
    """(incident id, username, rule step) -> how many messages brought it to the receiver."""
    seen: Counter = Counter()
    for request in list(receiver.requests):
        _, _, name, step = request["path"].split("/")
        body = json.loads(request["body"])
        incidents = body.get("incidents") or [body["incident"]]
        for incident in incidents:
            seen[(incident["id"], name, int(step))] += 1
    return seen


def _sending_to(worker, port: int) -> bool:
    """Whether a process of `worker` has a connection open to `port` on this machine."""
    try:
        main = psutil.Process(worker.process.pid)
        for process in [main, *main.children(recursive=True)]:
            for connection in process.net_connections(kind="tcp"):
                if connection.raddr and connection.raddr.port == port:
                    return connection.status == psutil.CONN_ESTABLISHED
    except psutil.Error:
        pass
    return False


def _until(predicate, timeout: float = 5.0) -> bool:
    """Poll `predicate` for up to `timeout` seconds; whether it came true (never a failure:
    the moment is a chance the test takes, not a condition it needs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def _unfinished() -> dict[str, int]:
    return {
        "deliveries": AlertDelivery.objects.exclude(status=DeliveryStatus.PROCESSED).count(),
        "escalations": IncidentEscalation.objects.exclude(state=EscalationState.EXHAUSTED).count(),
        "pages": PersonalPage.objects.exclude(state=PageState.DONE).count(),
        "notifications": Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
        ).count(),
    }


def _wait_until_settled(timeout: float) -> float:
    """Seconds until every delivery, escalation, page and notification is finished."""
    started = time.monotonic()
    while any((left := _unfinished()).values()):
        if time.monotonic() - started > timeout:
            pytest.fail(f"still unfinished after {timeout}s: {left}")
        time.sleep(1)
    return time.monotonic() - started


# One worker is left to page about 200 incidents twice each on a shared machine: 40 s to
# settle when idle, two minutes when busy.
@pytest.mark.timeout(480)
def test_two_hosts_of_each_lose_nothing_and_page_each_step_once_when_one_of_each_dies(
    settings,
    team,
    service,
    integration,
    receiver,
    worker_env,
    make_web,
    make_worker,
    nginx,
    client,
    tmp_path,
):
    from incidents.tests.factories import make_policy

    _, token = integration
    receiver.default, receiver.hang_seconds = "slow", 1.0  # a receiver that takes its time
    alice, bob = _people(team, receiver)
    service.escalation_policy = make_policy(team, (0, [alice]), (2, [bob]))
    service.save()
    # What every host must share besides the database and Redis: the keys. Left unset, each
    # host would make its own under its ./var (sessions signed on one web server would be
    # refused by the other; secrets encrypted by one host unreadable by the rest).
    worker_env["SECRET_KEY"] = settings.SECRET_KEY
    worker_env["PAGERLINE_ENCRYPTION_KEYS"] = ",".join(settings.PAGERLINE_ENCRYPTION_KEYS)
    worker_env.update(
        PAGERLINE_CLAIM_TIMEOUT_SECONDS="5",
        PAGERLINE_REDRIVE_AFTER_SECONDS="1",
        PAGERLINE_DRAIN_BATCH="20",
        PAGERLINE_ESCALATION_AUDIT_SECONDS="2",
        PAGERLINE_ESCALATION_OVERDUE_SECONDS="5",
        PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS="10",
    )
    hosts = {name: tmp_path / name for name in ("web-a", "web-b", "worker-a", "worker-b")}
    web_a = make_web("web-a", workers=1, cwd=hosts["web-a"])
    web_b = make_web("web-b", workers=1, cwd=hosts["web-b"])
    worker_a = make_worker(name="worker-a", cwd=hosts["worker-a"])
    make_worker("-B", name="worker-b", cwd=hosts["worker-b"])  # the one beat
    proxy = nginx([web_a.port, web_b.port])

    # A session made on one host is good on every host (the shared key, the database's
    # sessions): the proxy alternates servers, none sends the user back to sign in.
    client.force_login(alice)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    for _ in range(4):
        page = requests.get(f"{proxy.url}/", cookies=cookies, allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.status_code

    # Each key is re-sent until it is accepted (a 502 or a refused connection is retried,
    # as Alertmanager does), up to 30 times.
    storm = Storm(
        f"{proxy.url}/hooks/alertmanager/{token}",
        attempts=30,
        timeout=10,
        retry_pause=0.1,
        pause=PACE_SECONDS,
    )
    with storm.running(SENDERS, join_timeout=60):
        started = time.monotonic()
        wait_for(lambda: time.monotonic() - started > KILL_AT, timeout=KILL_AT + 5)
        # Kill while the worker has a message on the wire (the receiver takes 1 s to answer):
        # the receiver has it, the worker's record of it dies with the worker.
        on_the_wire = _until(lambda: _sending_to(worker_a, receiver.server.server_address[1]))
        sending_at_kill = Notification.objects.filter(status=NotificationStatus.SENDING).count()
        worker_a.kill()  # SIGKILL mid-storm: its claims, ETA tasks and sends are orphaned
        web_a.kill()  # and half the web tier vanishes with requests in flight
        wait_for(lambda: time.monotonic() - started > STORM_SECONDS, timeout=STORM_SECONDS + 5)

    accepted_ids, keys = storm.delivery_ids(), storm.keys()
    assert not storm.given_up, f"senders gave up on {storm.given_up}"
    assert keys == storm.attempted
    assert len(keys) > 100, f"the storm was too small to prove anything: {len(keys)}"

    settled_in = _wait_until_settled(timeout=300)
    incidents = set(Incident.objects.values_list("pk", flat=True))

    # Nothing accepted is lost; one incident per key.
    stored = set(AlertDelivery.objects.values_list("id", flat=True))
    assert accepted_ids <= stored, "a delivery that got a 2xx is missing"
    assert not AlertDelivery.objects.filter(status=DeliveryStatus.FAILED).exists()
    assert set(Incident.objects.values_list("dedup_key", flat=True)) == keys
    assert len(incidents) == len(keys)
    assert IncidentEvent.objects.filter(kind="triggered").count() == len(keys)

    # Every escalation step fired exactly once per incident, and the chain ended.
    steps = Counter(
        (row["incident_id"], row["data__step"])
        for row in IncidentEvent.objects.filter(kind="escalated").values(
            "incident_id", "data__step"
        )
    )
    assert set(steps) == {(i, step) for i in incidents for step in (1, 2)}
    assert set(steps.values()) == {1}, [k for k, n in steps.items() if n > 1]
    assert IncidentEvent.objects.filter(kind="escalation_exhausted").count() == len(incidents)
    assert not IncidentEvent.objects.filter(kind="escalation_warning").exists()

    # Every rule step of every person's page made exactly one notification (its retries
    # are rows pointing at it), and each of them was sent in the end.
    firsts = Notification.objects.filter(retry_of__isnull=True, incident__isnull=False)
    per_step = firsts.values("incident_id", "contact_method_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_step} == {1}
    assert len(per_step) == 4 * len(incidents)
    assert PersonalPage.objects.filter(state=PageState.DONE).count() == 2 * len(incidents)
    unsent = firsts.exclude(status=NotificationStatus.SENT).exclude(
        retries__status=NotificationStatus.SENT
    )
    assert not unsent.exists(), list(unsent.values("id", "status", "error")[:5])

    # Every page reached the receiver; twice only when the killed worker was sending it.
    lost = Notification.objects.filter(error="worker lost")
    cut_off = {
        (row.incident_id, row.user.username, 1 if row.contact_method.address.endswith("/1") else 2)
        for row in lost.select_related("user", "contact_method")
    }
    if on_the_wire:
        assert lost.exists(), "the killed worker was sending, yet no row says so"
    arrivals = _arrivals(receiver)
    expected = {(i, name, step) for i in incidents for name in ("alice", "bob") for step in (1, 2)}
    assert set(arrivals) == expected
    twice = {key for key, n in arrivals.items() if n == 2}
    assert max(arrivals.values()) <= 2
    assert twice <= cut_off, f"sent twice without a lost worker: {twice - cut_off}"

    # Each host kept to its own working directory; only the beat host keeps a schedule.
    assert not list(hosts["worker-a"].glob("*beat-schedule*"))
    assert list(hosts["worker-b"].glob("*beat-schedule*"))
    for path in hosts.values():
        assert not (path / "var" / "secret_key").exists()
        assert not (path / "var" / "encryption_key").exists()

    print(
        f"\nsettled {settled_in:.0f} s after the storm; "
        f"accepted {len(accepted_ids)} deliveries for {len(keys)} keys; "
        f"{storm.failed} requests refused or cut off (retried); {len(incidents)} incidents; "
        f"{sum(steps.values())} escalation steps; {len(per_step)} rule steps; "
        f"{len(receiver.requests)} messages at the receiver; "
        f"{len(lost)} rows cut off in the killed worker ({sending_at_kill} sending at the kill, "
        f"{'one' if on_the_wire else 'none'} on the wire in the killed worker), "
        f"{len(twice)} pages arrived twice: {sorted(twice)[:10]}"
    )
    web = {web_a.port: "web-a", web_b.port: "web-b"}
    for (status, upstreams), n in sorted(proxy.served().items()):
        for port, name in web.items():
            upstreams = upstreams.replace(f"127.0.0.1:{port}", name)
        print(f"  {n:5} POSTs answered {status}, by {upstreams}")
