"""A real sender: unmodified Prometheus and Alertmanager (Debian packages) watch a tiny target;
it goes down and comes back; Pagerline must open one incident and resolve it, with times
consistent with what happened."""

import json
import os
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from incidents.models import Incident, IncidentStatus
from tests.peers import free_port
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.peer, pytest.mark.django_db(transaction=True)]

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
if not (PROMETHEUS and ALERTMANAGER):
    message = "needs Debian's prometheus and prometheus-alertmanager packages (apt-get install)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


class Target:
    """A scrape target that can be taken down and brought back on the same port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"# TYPE demo_requests_total counter\ndemo_requests_total 1\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    def __init__(self, port: int):
        self.port = port
        self.server = None

    def up(self) -> None:
        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _start(command: list[str], log_path) -> subprocess.Popen:
    return subprocess.Popen(
        command, stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def test_prometheus_and_alertmanager_open_and_resolve_one_incident(
    integration, make_worker, make_web, tmp_path
):
    _, token = integration
    web = make_web()
    make_worker()
    target_port, prom_port, am_port, am_cluster_port = (free_port() for _ in range(4))
    # YAML is a superset of JSON: the configs are written as JSON.
    rule = {
        "alert": "TargetDown",
        "expr": 'up{job="target"} == 0',
        "for": "0s",
        "labels": {"severity": "critical"},
        "annotations": {"summary": "target {{ $labels.instance }} is down"},
    }
    (tmp_path / "rules.yml").write_text(json.dumps({"groups": [{"name": "demo", "rules": [rule]}]}))
    prometheus_config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "500ms"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
        },
        "scrape_configs": [
            {"job_name": "target", "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(prometheus_config))
    alertmanager_config = {
        "route": {
            "receiver": "pagerline",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "pagerline",
                "webhook_configs": [
                    {"url": f"{web.url}/hooks/alertmanager/{token}", "send_resolved": True}
                ],
            }
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(json.dumps(alertmanager_config))
    target = Target(target_port)
    target.up()
    processes = [
        _start(
            [
                ALERTMANAGER,
                f"--config.file={tmp_path / 'alertmanager.yml'}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                f"--cluster.listen-address=127.0.0.1:{am_cluster_port}",
            ],
            tmp_path / "alertmanager.log",
        ),
        _start(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            tmp_path / "prometheus.log",
        ),
    ]
    try:
        # Let Prometheus see the target up first, so "down" is a real change.
        wait_for(
            lambda: _scraped_up(prom_port),
            timeout=30,
            interval=0.5,
            message="Prometheus never scraped the target",
        )
        went_down = datetime.now(UTC)
        target.down()
        incident = wait_for(
            lambda: Incident.objects.filter(status=IncidentStatus.TRIGGERED).first(),
            timeout=40,
            interval=0.25,
            message="no incident opened for the down target",
        )
        came_back = datetime.now(UTC)
        target.up()
        wait_for(
            lambda: Incident.objects.filter(pk=incident.pk, status="resolved").exists(),
            timeout=40,
            interval=0.25,
            message="the incident did not resolve",
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        if target.server:
            target.down()

    incident.refresh_from_db()
    assert Incident.objects.count() == 1
    assert incident.title == f"target 127.0.0.1:{target_port} is down"
    # Prometheus marks the alert active at the first evaluation that sees up == 0.
    assert went_down <= incident.impact_started_at <= incident.detected_at <= came_back
    assert (incident.detected_at - went_down).total_seconds() < 30
    assert came_back <= incident.resolved_at
    assert incident.alerts.get().ends_at >= came_back.replace(microsecond=0)


def _scraped_up(prom_port: int) -> bool:
    import urllib.request

    url = f"http://127.0.0.1:{prom_port}/api/v1/query?query=up%7Bjob%3D%22target%22%7D"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            result = json.load(response)["data"]["result"]
    except OSError:
        return False
    return bool(result) and result[0]["value"][1] == "1"
