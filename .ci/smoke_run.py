"""Smoke test of `make run`: start it, wait for /readyz, POST a real Alertmanager payload to
the demo webhook, see the incident on the dashboard feed within 5 s, stop it with Ctrl-C.

Usage: python .ci/smoke_run.py   (from the repository root; uses `make run` as a user would)
       python .ci/smoke_run.py --services  (with DATABASE_URL and REDIS_URL as set: make run
                                            on PostgreSQL, gevent web workers)
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8000"


def main() -> int:
    if "--services" in sys.argv[1:]:
        env = dict(os.environ)
        if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
            raise SystemExit("--services needs DATABASE_URL and REDIS_URL")
    else:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    launcher = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        webhook = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            if not line:
                raise SystemExit(f"make run exited early:\n{''.join(output)}")
            output.append(line)
            if match := re.search(r"demo webhook: (\S+)", line):
                webhook = match[1]
            if "Press Ctrl-C to stop." in line:
                break
        else:
            raise SystemExit("make run did not become ready within 300 s")
        with urllib.request.urlopen(f"{BASE}/readyz", timeout=5) as response:
            assert response.status == 200, response.status
        print(f"ready; posting to {webhook}")

        payload = json.loads(
            (ROOT / "incidents/tests/fixtures/alertmanager/firing.json").read_text()
        )
        payload["groupKey"] = f"smoke-{time.time_ns()}"
        payload["alerts"][0]["annotations"]["summary"] = title = f"Smoke test {time.time_ns()}"
        request = urllib.request.Request(
            webhook,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        posted = time.monotonic()
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202, response.status

        opener = _logged_in()
        while time.monotonic() - posted < 5:
            with opener.open(f"{BASE}/incidents/feed.json", timeout=5) as response:
                feed = json.load(response)
            if any(row["title"] == title for row in feed["open"]):
                print(f"incident visible {time.monotonic() - posted:.2f} s after the webhook")
                return 0
            time.sleep(0.2)
        raise SystemExit("the incident did not appear within 5 s")
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGINT)
            try:
                rest, _ = launcher.communicate(timeout=30)
                output.append(rest or "")
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                raise SystemExit("make run did not stop within 30 s of Ctrl-C") from None
        if "Stopped." not in "".join(output):
            print("".join(output), file=sys.stderr)
            raise SystemExit("make run did not stop cleanly")
        print("make run stopped cleanly")


def _logged_in() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{BASE}/accounts/login/", timeout=5).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "demo", "password": "pagerline-demo", "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{BASE}/accounts/login/", data=form, headers={"Referer": f"{BASE}/accounts/login/"}
    )
    with opener.open(request, timeout=5) as response:
        if "/accounts/login/" in response.url:
            raise SystemExit("demo login failed")
    return opener


if __name__ == "__main__":
    sys.exit(main())
