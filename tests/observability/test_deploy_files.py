"""Static checks of grafana/ and deploy/: the dashboard's variables and datasource wiring, and
that the deployment files agree on the admin port (probes, scrape annotations, configs).

Run:  python3 -m unittest -v test_deploy_files      (from tests/observability)
Stdlib only; uses PyYAML for a full parse when it happens to be importable.
"""

import json
import os
import re
import subprocess
import tempfile
import unittest

import obs_harness as h

try:
    import yaml  # optional
except ImportError:  # pragma: no cover - the stdlib path is the normal one
    yaml = None

DEPLOY = os.path.join(h.REPO, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
GRAFANA = os.path.join(h.REPO, "grafana")
ADMIN_PORT = "9090"
DS_REF = "${datasource}"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def block(text, key):
    """The lines indented under the first `key:` line (a YAML mapping/sequence block)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'^(\s*)(- )?%s:\s*(\|[-+]?)?\s*(#.*)?$' % re.escape(key), line)
        if not m:
            continue
        indent = len(m.group(1)) + (2 if m.group(2) else 0)
        out = []
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            out.append(nxt)
        return "\n".join(out)
    raise AssertionError("no %r block" % key)


def dedent(text):
    lines = [l for l in text.splitlines()]
    width = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
    return "\n".join(l[width:] for l in lines) + "\n"


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dash = json.loads(read(h.DASHBOARD))

    def panels(self):
        out = []

        def walk(ps):
            for p in ps:
                out.append(p)
                walk(p.get("panels") or [])

        walk(self.dash["panels"])
        return out

    def test_schema_and_identity(self):
        self.assertGreaterEqual(self.dash["schemaVersion"], 39)
        self.assertEqual(self.dash["uid"], "hybrid-gateway")
        self.assertIsNone(self.dash.get("id"), "a provisioned dashboard carries no database id")
        ids = [p["id"] for p in self.panels()]
        self.assertEqual(len(ids), len(set(ids)), "duplicate panel ids")

    def test_datasource_variable_used_by_every_panel(self):
        variables = {v["name"]: v for v in self.dash["templating"]["list"]}
        ds = variables.get("datasource")
        self.assertIsNotNone(ds, "no `datasource` template variable")
        self.assertEqual(ds["type"], "datasource")
        self.assertEqual(ds["query"], "prometheus")
        for p in self.panels():
            if p["type"] == "row":
                continue
            self.assertEqual(p.get("datasource"), {"type": "prometheus", "uid": DS_REF}, p["title"])
            self.assertTrue(p.get("targets"), "panel without queries: " + p["title"])
            for t in p["targets"]:
                self.assertEqual(t.get("datasource"), {"type": "prometheus", "uid": DS_REF}, p["title"])
                self.assertTrue(t.get("expr"), p["title"])
        for name in ("model", "route"):
            self.assertEqual(variables[name]["datasource"], {"type": "prometheus", "uid": DS_REF})
        # No hard-coded datasource uid anywhere else.
        text = read(h.DASHBOARD)
        uids = set(re.findall(r'"uid":\s*"([^"]*)"', text)) - {DS_REF, "hybrid-gateway", "-- Grafana --"}
        self.assertEqual(uids, set())

    def test_model_and_route_variables(self):
        variables = {v["name"]: v for v in self.dash["templating"]["list"]}
        for name in ("model", "route"):
            v = variables.get(name)
            self.assertIsNotNone(v, name)
            self.assertEqual(v["type"], "query")
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            self.assertEqual(q, "label_values(gateway_requests_total, %s)" % name)
            self.assertTrue(v["includeAll"])
            self.assertEqual(v["allValue"], ".*")
        exprs = " ".join(e for _, e in h.dashboard_exprs(self.dash))
        self.assertIn('model=~"$model"', exprs)
        self.assertIn('route=~"$route"', exprs)

    def test_wall_screen_panels(self):
        exprs = [e for _, e in h.dashboard_exprs(self.dash)]
        joined = "\n".join(exprs)
        for needle in ('stage="first_token"', 'stage="prep"', "gateway_baseline_cost_usd_total",
                       "gateway_escalations_total", "gateway_upstream_errors_total",
                       "gateway_inflight_requests", 'route="fallback"', "gateway_tokens_total"):
            self.assertIn(needle, joined)
        for q in ("0.5", "0.95", "0.99"):
            self.assertIn("histogram_quantile(%s," % q, joined)

    def test_provisioning(self):
        ds = read(os.path.join(GRAFANA, "provisioning", "datasources", "prometheus.yaml"))
        self.assertIn("type: prometheus", ds)
        prov = read(os.path.join(GRAFANA, "provisioning", "dashboards", "hybrid-gateway.yaml"))
        path = re.search(r"path:\s*(\S+)", prov).group(1)
        compose = read(os.path.join(DEPLOY, "docker-compose.yml"))
        self.assertIn("../grafana/dashboards:%s" % path, compose)
        self.assertIn("../grafana/provisioning/datasources:/etc/grafana/provisioning/datasources", compose)
        self.assertIn("../grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards", compose)


class DeployFilesTest(unittest.TestCase):
    def test_yaml_parses_when_pyyaml_present(self):
        if yaml is None:
            self.skipTest("PyYAML not importable; promtool and the text checks cover the files")
        paths = [os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml")]
        paths += [os.path.join(DEPLOY, "docker-compose.yml"), os.path.join(DEPLOY, "compose", "gateway.yaml")]
        for p in paths:
            with open(p, encoding="utf-8") as f:
                list(yaml.safe_load_all(f))

    def test_k8s_probes_and_scrape_use_admin_port(self):
        dep = read(os.path.join(K8S, "deployment.yaml"))
        ports = block(dep, "ports")
        self.assertRegex(ports, r"name: admin\s*\n\s*containerPort: %s" % ADMIN_PORT)
        self.assertRegex(ports, r"name: http\s*\n\s*containerPort: 8080")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            b = block(dep, probe)
            self.assertIn("path: %s" % path, b, probe)
            self.assertRegex(b, r"port: (admin|%s)\b" % ADMIN_PORT, probe)
        annotations = block(dep, "annotations")
        self.assertIn('prometheus.io/scrape: "true"', annotations)
        self.assertIn('prometheus.io/port: "%s"' % ADMIN_PORT, annotations)
        self.assertIn("prometheus.io/path: /metrics", annotations)
        self.assertIn("resources:", dep)
        grace = int(re.search(r"terminationGracePeriodSeconds:\s*(\d+)", dep).group(1))
        cm = read(os.path.join(K8S, "configmap.yaml"))
        drain_ms = int(re.search(r"drain_timeout_ms:\s*(\d+)", cm).group(1))
        self.assertGreater(grace * 1000, drain_ms)

    def test_k8s_kinds(self):
        kinds = set()
        for f in os.listdir(K8S):
            kinds.update(re.findall(r"^kind:\s*(\S+)", read(os.path.join(K8S, f)), re.M))
        self.assertTrue({"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds, kinds)
        svc = read(os.path.join(K8S, "service.yaml"))
        self.assertRegex(svc, r"port: %s" % ADMIN_PORT)

    def test_gateway_configs_listen_on_the_ports_the_files_expect(self):
        cm_yaml = dedent(block(read(os.path.join(K8S, "configmap.yaml")), "gateway.yaml"))
        compose_yaml = read(os.path.join(DEPLOY, "compose", "gateway.yaml"))
        for text in (cm_yaml, compose_yaml):
            self.assertIn('admin_listen: "0.0.0.0:%s"' % ADMIN_PORT, text)
            self.assertIn('listen: "0.0.0.0:8080"', text)
        if not os.access(h.GATEWAY_BIN, os.X_OK):
            self.skipTest("gateway not built: --check-config skipped")
        for name, text in (("configmap", cm_yaml), ("compose", compose_yaml)):
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="gw-obs-") as f:
                f.write(text)
                f.flush()
                res = subprocess.run([h.GATEWAY_BIN, "--check-config", f.name],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(res.returncode, 0, name + ": " + res.stdout + res.stderr)

    def test_prometheus_scrapes_the_admin_port(self):
        prom = read(h.PROMETHEUS_YML)
        self.assertIn('"gateway:%s"' % ADMIN_PORT, prom)
        self.assertIn("rules/*.yml", prom)

    def test_dockerfile(self):
        df = read(os.path.join(DEPLOY, "Dockerfile"))
        froms = re.findall(r"^FROM\s+(\S+)", df, re.M)
        self.assertGreaterEqual(len(froms), 2, "multi-stage")
        self.assertTrue(all(f.startswith("debian:12") for f in froms), froms)
        self.assertIn("scripts/install-deps.sh", df)
        self.assertIn("cmake", df)
        user = re.findall(r"^USER\s+(\S+)", df, re.M)
        self.assertTrue(user and user[-1].split(":")[0] not in ("root", "0"), user)
        self.assertRegex(df, r"(?m)^EXPOSE 8080 9090$")

    def test_systemd_unit(self):
        unit = read(os.path.join(DEPLOY, "hybrid-gateway.service"))
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID",
                     "KillSignal=SIGTERM"):
            self.assertIn(line, unit)
        self.assertTrue("DynamicUser=yes" in unit or re.search(r"^User=\S+", unit, re.M))
        stop = int(re.search(r"TimeoutStopSec=(\d+)", unit).group(1))
        self.assertGreater(stop, 30, "TimeoutStopSec must exceed the default drain (30 s)")


if __name__ == "__main__":
    unittest.main()
