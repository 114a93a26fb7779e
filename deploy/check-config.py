#!/usr/bin/env python3
"""Static checks of deploy/: parses docker-compose.yml and every manifest in k8s/, and checks them
against each other and against deploy/topology.json (services, ports, secret grants, gateway
upstreams; scripts/up reads the same file through scripts/lib/services.sh), so the three ways of
running DayTrade stay in step.

Needs PyYAML (Debian: python3-yaml). Prints one line per problem; exit status 1 if any.
"""

import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
problems = []


def problem(text):
    problems.append(text)


TOPOLOGY = json.load(open(os.path.join(HERE, "topology.json")))
# Secret grant words (topology.json) and the variables they stand for.
SECRET_VARS = TOPOLOGY["secrets"]
# The gateway's upstream variables and the services they name.
UPSTREAMS = TOPOLOGY["services"]["gateway"].get("upstreams", {})


def topology_table():
    """[(name, [ports], {secret variables})] from topology.json, the one definition of the services
    (scripts/lib/services.sh reads the same file)."""
    return [(name, svc["ports"], {SECRET_VARS[w] for w in svc.get("secrets", [])})
            for name, svc in TOPOLOGY["services"].items()]


def check_secrets(where, name, given, wanted):
    """Each service holds exactly the secrets scripts/up gives it (least privilege, none missing)."""
    if given != wanted:
        problem(f"{where}: {name} gets secrets {sorted(given)} but topology.json grants {sorted(wanted)}")


def env_dict(env):
    if isinstance(env, dict):
        return {k: "" if v is None else str(v) for k, v in env.items()}
    return dict(item.split("=", 1) for item in env or [])


def check_compose(table, grants):
    compose = yaml.safe_load(open(os.path.join(HERE, "docker-compose.yml")))
    services = compose.get("services", {})
    for infra in ("postgres", "redis", "nginx"):
        if infra not in services:
            problem(f"compose: no {infra} service")
    # Each service of the table runs with its table port (gateway: one compose service per instance).
    by_name = {}
    for key, svc in services.items():
        command = svc.get("command") or []
        if svc.get("image", "").startswith("daytrade/services"):
            if not command:
                problem(f"compose: {key} has no command (the service to start)")
                continue
            by_name.setdefault(command[0], []).append((key, svc))
    for name, ports in table.items():
        instances = by_name.get(name, [])
        if not instances:
            problem(f"compose: no service runs {name}")
            continue
        if name == "gateway" and len(instances) < 2:
            problem("compose: fewer than two gateway instances")
        for key, svc in instances:
            env = env_dict(svc.get("environment"))
            if env.get("DT_PORT") != str(ports[0]):
                problem(f"compose: {key} DT_PORT={env.get('DT_PORT')} but topology.json says {ports[0]}")
            if env.get("DT_HOST") != "0.0.0.0":
                problem(f"compose: {key} does not bind 0.0.0.0 (DT_HOST)")
            if "healthcheck" not in svc:
                problem(f"compose: {key} has no healthcheck")
            if "internal" not in (svc.get("networks") or []):
                problem(f"compose: {key} is not on the internal network")
            for var, port in TOPOLOGY["services"][name].get("env_ports", {}).items():
                if env.get(var) != str(port):
                    problem(f"compose: {key} {var}={env.get(var)} but topology.json says {port}")
            secrets = {k for k in env if k in SECRET_VARS.values()}
            check_secrets("compose", key, secrets, grants[name])
            for k in secrets:
                if not re.fullmatch(r"\$\{" + k + r":\?[^}]+\}", env[k]):
                    problem(f"compose: {key} {k} must be required from the environment (${{{k}:?...}}), not {env[k]!r}")
    # Upstreams named by the gateways and nginx exist, on the right ports.
    port_of = {key: env_dict(svc.get("environment")).get("DT_PORT") for key, svc in services.items()}
    for name, group in UPSTREAMS.items():
        for key, svc in by_name.get("gateway", []):
            value = env_dict(svc.get("environment")).get(name, "")
            if not value:
                problem(f"compose: {key} has no {name} (topology.json: the {group} service)")
            for endpoint in filter(None, value.split(",")):
                host, _, port = endpoint.partition(":")
                if host != group or port_of.get(host) != port:
                    problem(f"compose: {key} {name}={value} does not name the {group} service's port")
    nginx = services.get("nginx", {})
    nginx_env = env_dict(nginx.get("environment"))
    named = sorted(e.split(":")[0] for e in nginx_env.get("DT_GATEWAYS", "").split(",") if e)
    if named != sorted(key for key, _ in by_name.get("gateway", [])):
        problem(f"compose: nginx DT_GATEWAYS={nginx_env.get('DT_GATEWAYS')} does not list every gateway")
    named = sorted(e.split(":")[0] for e in nginx_env.get("DT_STREAMS", "").split(",") if e)
    if named != sorted(key for key, _ in by_name.get("market-stream", [])):
        problem(f"compose: nginx DT_STREAMS={nginx_env.get('DT_STREAMS')} does not list every market-stream")
    if "internal" in (nginx.get("networks") or []):
        problem("compose: nginx must not reach the services directly (internal network)")
    for key, svc in services.items():
        for dep in (svc.get("depends_on") or {}):
            if dep not in services:
                problem(f"compose: {key} depends on unknown service {dep}")
        if key not in ("nginx",) and svc.get("ports"):
            problem(f"compose: {key} publishes ports; only nginx should")
    pg_volumes = services.get("postgres", {}).get("volumes") or []
    if not any(str(v).split(":")[0] in (compose.get("volumes") or {}) for v in pg_volumes):
        problem("compose: postgres data is not on a named volume")


def check_k8s(table, grants):
    folder = os.path.join(HERE, "k8s")
    kustomization = yaml.safe_load(open(os.path.join(folder, "kustomization.yaml")))
    docs = []
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all(open(os.path.join(folder, name))):
            if doc:
                docs.append((name, doc))
    listed = set(kustomization["resources"])
    for name in os.listdir(folder):
        if name.endswith(".yaml") and name != "kustomization.yaml" and name not in listed:
            problem(f"k8s: {name} is not listed in kustomization.yaml")
    workloads = [(f, d) for f, d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    services = [(f, d) for f, d in docs if d["kind"] == "Service"]
    run_by_args = {}
    for f, d in workloads:
        name = d["metadata"]["name"]
        spec = d["spec"]
        labels = spec["template"]["metadata"]["labels"]
        selector = spec["selector"]["matchLabels"]
        if any(labels.get(k) != v for k, v in selector.items()):
            problem(f"k8s: {f} {name}: selector {selector} does not match its pod labels {labels}")
        for c in spec["template"]["spec"]["containers"]:
            if "readinessProbe" not in c:
                problem(f"k8s: {f} {name}/{c['name']} has no readinessProbe")
            args = c.get("args") or []
            if c["image"].startswith("daytrade/services"):
                run_by_args[args[0]] = (d, c)
    for name, ports in table.items():
        if name not in run_by_args:
            problem(f"k8s: no Deployment runs {name}")
            continue
        d, c = run_by_args[name]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        secrets = {e["name"] for e in c.get("env", []) if e["name"] in SECRET_VARS.values()}
        check_secrets("k8s", name, secrets, grants[name])
        for e in c.get("env", []):
            if e["name"] in SECRET_VARS.values() and "secretKeyRef" not in (e.get("valueFrom") or {}):
                problem(f"k8s: {name} {e['name']} must come from the Secret (secretKeyRef)")
        if env.get("DT_PORT") != str(ports[0]):
            problem(f"k8s: {name} DT_PORT={env.get('DT_PORT')} but topology.json says {ports[0]}")
        if not any(p["containerPort"] == ports[0] for p in c.get("ports", [])):
            problem(f"k8s: {name} does not declare containerPort {ports[0]}")
    for name, svc in TOPOLOGY["services"].items():
        if not svc.get("singleton") or name not in run_by_args:
            continue
        d, c = run_by_args[name]
        spec = d["spec"]
        if "shards" in svc:
            check_k8s_shards(name, svc, d, c, services)
        elif spec.get("replicas") != 1 or spec.get("strategy", {}).get("type") != "Recreate":
            problem(f"k8s: {name} must run exactly one replica, replaced with the Recreate strategy")
    for f, s in services:
        selector = s["spec"]["selector"]
        matches = [d for _, d in workloads
                   if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]
        if not matches:
            problem(f"k8s: Service {s['metadata']['name']} selects no pods")
            continue
        port_names = {p.get("name") for d in matches for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for p in s["spec"]["ports"]:
            if isinstance(p["targetPort"], str) and p["targetPort"] not in port_names:
                problem(f"k8s: Service {s['metadata']['name']} targets unknown port {p['targetPort']}")
    # Upstream host names in the ConfigMap are Services, the ones topology.json names.
    config = next(d for _, d in docs if d["kind"] == "ConfigMap")
    for key, group in UPSTREAMS.items():
        if config["data"].get(key, "").split(":")[0] != group:
            problem(f"k8s: ConfigMap {key}={config['data'].get(key)} does not name the {group} Service")
    service_names = {s["metadata"]["name"] for _, s in services}
    for key, value in config["data"].items():
        if key in SECRET_VARS.values() or "PASSWORD" in key:
            problem(f"k8s: ConfigMap holds the secret {key}; it belongs in the Secret")
        if key.startswith("DT_UPSTREAM_") or key in ("DT_REDIS", "DT_QUOTE_URL"):
            host = value.split(":")[0]
            if host not in service_names:
                problem(f"k8s: ConfigMap {key}={value} names no Service")


def check_k8s_shards(name, svc, d, c, services):
    """A sharded singleton: a StatefulSet (at most one pod per ordinal) of the topology's cluster
    count, each pod told its ordinal, the count and every peer's stable name under the headless
    Service."""
    count, port = svc["shards"]["cluster"], svc["ports"][0]
    spec = d["spec"]
    if d["kind"] != "StatefulSet" or spec.get("replicas") != count:
        problem(f"k8s: {name} must be a StatefulSet of {count} shards")
    env = {e["name"]: e for e in c.get("env", [])}
    ordinal = (env.get("DT_SHARD", {}).get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
    if ordinal != "metadata.labels['apps.kubernetes.io/pod-index']":
        problem(f"k8s: {name} DT_SHARD must come from the pod's ordinal (pod-index label)")
    if env.get("DT_SHARDS", {}).get("value") != str(count):
        problem(f"k8s: {name} DT_SHARDS must be {count}")
    headless = spec.get("serviceName")
    want = ",".join(f"{name}-{k}.{headless}:{port}" for k in range(count))
    if env.get("DT_SHARD_PEERS", {}).get("value") != want:
        problem(f"k8s: {name} DT_SHARD_PEERS must be {want}")
    if not any(s["metadata"]["name"] == headless and s["spec"].get("clusterIP") == "None" for _, s in services):
        problem(f"k8s: {name}'s serviceName {headless} is not a headless Service")


def check_compose_shards():
    """docker-compose.shards.yml: one engine container per shard, each the base engine's service
    but for DT_SHARD; ordinals 0..N-1 in the peers' order; every gateway lists every shard."""
    base = yaml.safe_load(open(os.path.join(HERE, "docker-compose.yml")))["services"]
    over = yaml.safe_load(open(os.path.join(HERE, "docker-compose.shards.yml")))["services"]
    engine = base["matching-engine"]
    first = {**engine["environment"], **over["matching-engine"]["environment"]}
    peers = first.get("DT_SHARD_PEERS", "").split(",")
    count = int(first.get("DT_SHARDS", "0"))
    if len(peers) != count or count > TOPOLOGY["services"]["matching-engine"]["shards"]["max"]:
        problem(f"compose shards: DT_SHARDS={count} but peers {peers}")
    for k, peer in enumerate(peers):
        key = peer.split(":")[0]
        svc = {**engine, "environment": first} if key == "matching-engine" else over.get(key)
        if svc is None:
            problem(f"compose shards: peer {peer} is no service")
            continue
        for field, value in engine.items():
            if field != "environment" and svc.get(field) != value:
                problem(f"compose shards: {key} differs from matching-engine in {field}")
        if svc["environment"] != {**first, "DT_SHARD": str(k)}:
            problem(f"compose shards: {key} environment must be matching-engine's with DT_SHARD={k}")
        if peer.split(":")[1] != svc["environment"].get("DT_PORT"):
            problem(f"compose shards: peer {peer} is not {key}'s DT_PORT")
    for key in (k for k in base if base[k].get("command") == ["gateway"]):
        upstream = (over.get(key) or {}).get("environment", {}).get("DT_UPSTREAM_ENGINE")
        if upstream != ",".join(peers):
            problem(f"compose shards: {key} DT_UPSTREAM_ENGINE={upstream} does not list every shard")


def check_products(table):
    """Every service of the topology is built into the services image (deploy/products.txt)."""
    lines = open(os.path.join(HERE, "products.txt")).read().splitlines()
    products = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    for name in table:
        if name not in products:
            problem(f"products.txt: {name} is a service of topology.json but is not built into the image")


def check_nginx_template():
    """The production template every deployment renders: slow clients dropped within 10 s, a
    half-closed client still answered, and the benchmark routes only in nginx/bench.conf.template."""
    text = open(os.path.join(REPO, "nginx/nginx.conf.template")).read()
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        m = re.search(rf"^\s*{name}\s+(\d+)s?;", text, re.M)
        if not m or int(m.group(1)) > 10:
            problem(f"nginx template: {name} must be set to at most 10s")
    if not re.search(r"^\s*proxy_ignore_client_abort\s+on;", text, re.M):
        problem("nginx template: proxy_ignore_client_abort on is missing")
    if re.search(r"upstream\s+hello|proxy_pass\s+http://hello|HELLO_UPSTREAM", text):
        problem("nginx template: routes to the hello benchmark service belong in nginx/bench.conf.template")


def check_nginx_routes():
    """nginx proxies to the gateway exactly the prefixes the gateway routes (topology.json), read with
    crossplane, nginx's own config parser: a regex location `^/(a|b)/` covers /a/ and /b/; any other
    proxied location must lie under one of them (e.g. a stream location with buffering off), or be
    the event stream, proxied to the market-stream instances (no gateway hop)."""
    try:
        import crossplane
    except ImportError:
        problem("nginx routes: crossplane (PyPI) is needed to parse nginx/nginx.conf.template")
        return
    parsed = crossplane.parse(os.path.join(REPO, "nginx/nginx.conf.template"), single=True, comments=False,
                              check_ctx=False, check_args=False)
    if parsed["status"] != "ok":
        problem(f"nginx routes: the template does not parse: {parsed['errors']}")
        return
    routes = TOPOLOGY["services"]["gateway"]["routes"]
    wanted = set(routes["prefixes"]) | {routes["classic_prefix"]}
    covered, others, streams = set(), [], []

    def walk(block):
        for d in block:
            inner = d.get("block", [])
            passes = [x["args"][0] for x in inner if x["directive"] == "proxy_pass"]
            if d["directive"] == "location" and passes == ["http://market_stream"]:
                streams.append(d["args"][-1])
            elif d["directive"] == "location" and passes:
                m = re.fullmatch(r"\^/\(([\w|-]+)\)/", d["args"][-1]) if d["args"][0] == "~" else None
                if m:
                    covered.update(f"/{name}/" for name in m.group(1).split("|"))
                else:
                    others.append(d["args"][-1])
            walk(inner)

    walk(parsed["config"][0]["parsed"])
    if covered != wanted:
        problem(f"nginx routes: the template proxies {sorted(covered)} but the gateway routes {sorted(wanted)}")
    if streams != ["/engine/stream"]:
        problem(f"nginx routes: market_stream serves {streams}, expected exactly /engine/stream")
    if "/engine/stream" in routes.get("public", []):
        problem("nginx routes: /engine/stream is the market-stream service's, not a gateway public path")
    for path in others:
        if path not in routes.get("gateway_own", []) and not any(path.startswith(prefix) for prefix in wanted):
            problem(f"nginx routes: location {path} is proxied but no gateway route serves it")


def main():
    rows = topology_table()
    table = {name: ports for name, ports, _ in rows}
    grants = {name: secrets for name, _, secrets in rows}
    check_compose(table, grants)
    check_compose_shards()
    check_products(table)
    check_k8s(table, grants)
    check_nginx_template()
    check_nginx_routes()
    for text in problems:
        print(f"deploy check: {text}")
    print(f"deploy check: {'OK' if not problems else f'{len(problems)} problem(s)'} "
          f"(compose and k8s against topology.json: {', '.join(table)})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
