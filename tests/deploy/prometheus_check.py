#!/usr/bin/python3
"""Checks deploy/prometheus.yml and deploy/grafana-dashboard.json against a
real Prometheus (Debian's `prometheus`) scraping running actio-chat nodes.

usage: prometheus_check.py PROMETHEUS_YML DASHBOARD_JSON TARGETS_JSON WORKDIR NODES

- `promtool check config` accepts PROMETHEUS_YML as shipped;
- its static targets are local-cluster's default metrics ports (7201..);
- a copy whose job reads TARGETS_JSON (written by `local-cluster --targets`)
  instead of the static targets, scraped every second, brings all NODES
  targets up in a Prometheus started on 127.0.0.1:0;
- every query of every dashboard panel is valid PromQL and returns at least
  one series for the nodes.

Prints "ok: ..." and exits 0, or prints what failed and exits 1. Every wait
is bounded.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import yaml


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def get_json(base, path, params=None):
    url = base + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def dashboard_queries(dash):
    """(panel title, expr) of every target of every panel, Grafana's
    variables replaced by what a user with node=All would send."""
    out = []
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "15s")
            expr = expr.replace("$node", ".*")
            if "$" in expr:
                fail(f"panel {panel['title']!r}: unknown variable in {expr!r}")
            out.append((panel["title"], expr))
    return out


def main():
    if len(sys.argv) != 6:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    config, dashboard, targets, workdir, nodes = sys.argv[1:]
    nodes = int(nodes)

    check = subprocess.run(["promtool", "check", "config", config],
                           capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        fail("promtool check config:\n" + check.stdout + check.stderr)

    with open(config) as f:
        cfg = yaml.safe_load(f)
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == "actio-chat"]
    if len(jobs) != 1:
        fail("no job actio-chat in " + config)
    job = jobs[0]
    static = [(g["targets"], g["labels"]) for g in job["static_configs"]]
    want = [([f"127.0.0.1:{7200 + i}"], {"node": f"node{i}", "cluster": "local-cluster"})
            for i in range(1, len(static) + 1)]
    if static != want or not static:
        fail(f"static targets {static} are not local-cluster's defaults {want}")

    # The same job, fed by local-cluster's --targets file, every second.
    del job["static_configs"]
    job["file_sd_configs"] = [{"files": [os.path.abspath(targets)]}]
    job["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    run_cfg = os.path.join(workdir, "prometheus.yml")
    with open(run_cfg, "w") as f:
        yaml.safe_dump(cfg, f)
    with open(dashboard) as f:
        dash = json.load(f)
    queries = dashboard_queries(dash)
    if not queries:
        fail("the dashboard has no queries")

    log_path = os.path.join(workdir, "prometheus.log")
    log = open(log_path, "w")
    prom = subprocess.Popen(
        ["prometheus", "--config.file=" + run_cfg,
         "--storage.tsdb.path=" + os.path.join(workdir, "data"),
         "--web.listen-address=127.0.0.1:0"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = None
        deadline = time.monotonic() + 60
        while base is None and time.monotonic() < deadline:
            if prom.poll() is not None:
                fail("prometheus exited:\n" + open(log_path).read())
            m = re.search(r'msg="Listening on" address=(127\.0\.0\.1:\d+)',
                          open(log_path).read())
            if m:
                base = "http://" + m.group(1)
            else:
                time.sleep(0.1)
        if base is None:
            fail("prometheus did not report its address:\n" + open(log_path).read())

        # All nodes up.
        up = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                active = get_json(base, "/api/v1/targets")["data"]["activeTargets"]
                up = sorted(t["labels"].get("node", "?") for t in active
                            if t["health"] == "up" and t["labels"]["job"] == "actio-chat")
                if len(up) == nodes:
                    break
            except OSError:
                pass  # not serving yet
            time.sleep(0.2)
        if len(up) != nodes:
            fail(f"{len(up)} of {nodes} targets up ({up})")

        # Every dashboard query: valid, and data for the nodes once rates
        # have two samples.
        pending = dict(enumerate(queries))
        errors = {}
        deadline = time.monotonic() + 90
        while pending and time.monotonic() < deadline:
            for i, (title, expr) in list(pending.items()):
                ans = get_json(base, "/api/v1/query", {"query": expr})
                if ans.get("status") != "success":
                    errors[i] = f"{title}: {expr}: {ans}"
                    del pending[i]
                elif ans["data"]["result"]:
                    del pending[i]
            if pending:
                time.sleep(0.5)
        if errors:
            fail("invalid queries:\n  " + "\n  ".join(errors.values()))
        if pending:
            fail("queries without data:\n  " +
                 "\n  ".join(f"{t}: {e}" for t, e in pending.values()))
        print(f"ok: {nodes} targets up, {len(queries)} dashboard queries "
              f"answered", flush=True)
        return 0
    finally:
        os.killpg(prom.pid, signal.SIGTERM)
        try:
            prom.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(prom.pid, signal.SIGKILL)
            prom.wait()


if __name__ == "__main__":
    sys.exit(main())
