"""A real Prometheus (Debian package) scrapes /metrics of two real web servers with the
bearer token while a real worker processes webhooks and retention purges them: both targets
are up, increase() sees the deliveries, and the counters never reset."""

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.db.models import F

from incidents.intake import retention
from incidents.models import AlertDelivery, DeliveryStatus
from tests.peers import free_port
from tests.support import am_alert, am_payload, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.peer, pytest.mark.django_db(transaction=True)]

PROMETHEUS = shutil.which("prometheus")
if not PROMETHEUS:
    message = "needs Debian's prometheus package (apt-get install prometheus)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

TOKEN = "prometheus-scrape-token-0123"


def query(port: int, expr: str) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)["data"]["result"]
    except OSError:
        return []


def scalar(port: int, expr: str) -> float | None:
    result = query(port, expr)
    return float(result[0]["value"][1]) if result else None


def post(server, token: str, n: int, start: int) -> None:
    for i in range(start, start + n):
        body = json.dumps(am_payload(am_alert(fingerprint=f"fp-{i}"), group_key=f"g-{i}"))
        request = urllib.request.Request(
            f"{server.url}/hooks/alertmanager/{token}",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202


def test_prometheus_scrapes_both_web_servers_and_the_counters_never_reset(
    integration, worker_env, make_worker, make_web, tmp_path
):
    _, token = integration
    worker_env["PAGERLINE_METRICS_TOKEN"] = TOKEN
    webs = [make_web("web-1", workers=1), make_web("web-2", workers=1)]
    make_worker()
    prom_port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {
                "job_name": "pagerline",
                "authorization": {"credentials": TOKEN},
                "static_configs": [{"targets": [f"127.0.0.1:{web.port}" for web in webs]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    prometheus = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=(tmp_path / "prometheus.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    received = 'pagerline_alert_deliveries_received_total{source="alertmanager"}'
    try:
        wait_for(
            lambda: scalar(prom_port, 'count(up{job="pagerline"} == 1)') == 2,
            timeout=30,
            interval=0.5,
            message="Prometheus never scraped both web servers",
        )
        post(webs[0], token, 10, 0)
        wait_for(
            lambda: scalar(prom_port, f"min({received})") == 10,
            timeout=30,
            interval=0.5,
            message="both targets never showed the 10 deliveries",
        )
        # Retention removes every processed delivery; the counters stay.
        AlertDelivery.objects.update(received_at=F("received_at") - timedelta(days=400))
        assert retention.deliveries_purge(pause=0).deleted == 10
        time.sleep(2.5)  # a few scrapes after the purge
        post(webs[1], token, 5, 10)
        wait_for(
            lambda: scalar(prom_port, f"min({received})") == 15,
            timeout=30,
            interval=0.5,
            message="both targets never showed the 15 deliveries",
        )
        assert not AlertDelivery.objects.exclude(status=DeliveryStatus.PROCESSED).exists()
        assert scalar(prom_port, f"max(resets({received}[5m]))") == 0
        increase = scalar(prom_port, f"min(increase({received}[5m]))")
        assert increase is not None and increase > 0
        count = "pagerline_ingest_latency_seconds_count"
        assert scalar(prom_port, f"max(resets({count}[5m]))") == 0
        p99 = scalar(
            prom_port,
            "histogram_quantile(0.99, max by (le) (pagerline_ingest_latency_seconds_bucket))",
        )
        assert p99 is not None and 0 < p99 <= 300
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=10)
