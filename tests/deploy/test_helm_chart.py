"""The Helm chart, checked with Helm's own Go SDK (lint, render, schema) and
the Kubernetes API schemas; what each shape must contain is asserted on the
rendered objects. checkov scans the same renders in CI (deploy/ci.sh)."""

from __future__ import annotations

import copy
import json
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.support import CHART, DEPLOY, env_of, load_script, load_yaml

render = load_script(DEPLOY / "helm" / "render.py")
lint, manifests, scenarios = render.lint, render.manifests, render.scenarios

KUBERNETES_VERSION = "1.30.0"
SCENARIOS = scenarios()
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = load_yaml(CHART / "values.yaml")


def merged(overrides: dict[str, Any]) -> dict[str, Any]:
    """values.yaml with `overrides` merged in, as Helm merges them."""
    return deep_merge(DEFAULTS, overrides)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["labels"]["app.kubernetes.io/component"]: o
        for o in objects
        if o["kind"] == kind
    }


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: manifests(values) for name, values in SCENARIOS.items()}


def test_ci_scenarios_cover_both_slack_modes_and_mcp_alone() -> None:
    assert set(SCENARIOS) == {"socket", "http-ingress", "mcp-only"}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_helm_lint_strict_reports_no_errors_or_warnings(name: str) -> None:
    report = lint(SCENARIOS[name])
    assert report["errors"] == []
    # Severity 1 is INFO (only "icon is recommended"); 2 WARNING, 3 ERROR.
    assert [m for m in report["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_rendered_object_is_valid_kubernetes(
    name: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    for obj in rendered[name]:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_ci_scenarios_are_valid_against_the_values_schema(name: str) -> None:
    jsonschema.validate(merged(SCENARIOS[name]), SCHEMA)


def test_values_schema_is_a_valid_draft7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_every_values_key_is_described_in_the_schema() -> None:
    def walk(values: dict[str, Any], schema: dict[str, Any], at: str) -> None:
        props = schema.get("properties", {})
        for key, value in values.items():
            assert key in props, f"{at}{key} is not in values.schema.json"
            sub = props[key]
            if "$ref" in sub:
                sub = SCHEMA["$defs"][sub["$ref"].rsplit("/", 1)[1]]
            assert (
                sub.get("description")
                or "$ref" in props[key]
                or (sub.get("type") == "object")
            ), f"{at}{key} has no description in values.schema.json"
            if isinstance(value, dict) and sub.get("additionalProperties") is False:
                walk(value, sub, f"{at}{key}.")

    walk(DEFAULTS, SCHEMA, "")


BAD_VALUES = [
    ({"slack": {"secret": {"name": ""}}}, "/slack/secret/name"),
    ({"mcp": {"secret": {"name": ""}}}, "/mcp/secret/name"),
    ({"slack": {"mode": "webhook"}}, "/slack/mode"),
    ({"slack": {"replicas": 0}}, "/slack/replicas"),
    ({"slack": {"adminUsers": ["alice"]}}, "/slack/adminUsers/0"),
    ({"slack": {"secret": {"keys": {"SLACK_APP_TOKEN": ""}}}}, "SLACK_APP_TOKEN"),
    ({"image": {"tag": "latest"}}, "/image/tag"),
    ({"image": {"digest": "sha256:abc"}}, "/image/digest"),
    ({"jarvice": {"apiUrl": "cloud.nimbix.net"}}, "/jarvice/apiUrl"),
    ({"mcp": {"toolsets": ["jobs", "billing"]}}, "/mcp/toolsets/1"),
    ({"mcp": {"replicas": "two"}}, "/mcp/replicas"),
    ({"mcp": {"extraArgs": ["rm -rf /"]}}, "/mcp/extraArgs/0"),
    ({"slack": {"ingress": {"enabled": True}}}, "/slack/ingress/host"),
    ({"slack": {"secretName": "oops"}}, "secretName"),
    ({"podSecurityContext": {"runAsNonRoot": False}}, "/podSecurityContext"),
    ({"mcp": {"podDisruptionBudget": {"maxUnavailable": 0}}}, "maxUnavailable"),
    ({"extraEnv": [{"value": "x"}]}, "/extraEnv/0"),
    ({"extraVolumeMounts": [{"name": "ca", "mountPath": "etc"}]}, "mountPath"),
    ({"extraVolumes": [{"name": "tmp", "emptyDir": {}}]}, "/extraVolumes/0"),
    ({"slack": {"podDisruptionBudget": {"minAvailable": 1}}}, "minAvailable"),
]


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def test_default_values_alone_are_refused_until_secrets_are_named() -> None:
    with pytest.raises(helm.HelmValuesError) as refused:
        manifests(None)
    assert "/slack/secret/name" in str(refused.value)
    assert "/mcp/secret/name" in str(refused.value)


@pytest.mark.parametrize(("overrides", "where"), BAD_VALUES)
def test_bad_values_are_refused_naming_the_field(
    overrides: dict[str, Any], where: str
) -> None:
    values = deep_merge(SCENARIOS["socket"], overrides)
    with pytest.raises(helm.HelmValuesError) as refused:
        manifests(values)
    assert where in str(refused.value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(merged(values), SCHEMA)


def test_socket_mode_wires_the_app_token_and_no_ingress(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["socket"]
    env = env_of(container(by_kind(objects, "Deployment")["slack"]))
    secret_refs = {
        name: ref["secretKeyRef"]
        for name, ref in env.items()
        if isinstance(ref, dict) and "secretKeyRef" in ref
    }
    assert set(secret_refs) == {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "JARVICE_TOOLS_ENCRYPTION_KEY",
        "DATABASE_URL",
    }
    assert {ref["name"] for ref in secret_refs.values()} == {"jarvice-slack"}
    assert "Ingress" not in {o["kind"] for o in objects}


def test_http_mode_serves_slack_events_through_a_tls_ingress(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["http-ingress"]
    env = env_of(container(by_kind(objects, "Deployment")["slack"]))
    assert "SLACK_SIGNING_SECRET" in env
    assert "SLACK_APP_TOKEN" not in env
    assert env["SLACK_ADMIN_USERS"] == "U0ADMIN01,U0ADMIN02"
    ingress = by_kind(objects, "Ingress")["slack"]["spec"]
    (rule,) = ingress["rules"]
    assert rule["host"] == "slack.jarvice.example.org"
    assert [p["path"] for p in rule["http"]["paths"]] == ["/slack/events"]
    assert ingress["tls"][0]["secretName"] == "slack-jarvice-tls"
    mcp_paths = by_kind(objects, "Ingress")["mcp"]["spec"]["rules"][0]["http"]
    assert [p["path"] for p in mcp_paths["paths"]] == ["/mcp"]


def test_secrets_are_referenced_never_rendered(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    secret_env = {
        "slack": set(DEFAULTS["slack"]["secret"]["keys"]),
        "mcp": set(DEFAULTS["mcp"]["secret"]["keys"]),
    }
    for objects in rendered.values():
        assert "Secret" not in {o["kind"] for o in objects}
        for component, deployment in by_kind(objects, "Deployment").items():
            env = env_of(container(deployment))
            for name in secret_env[component] & set(env):
                assert set(env[name]) == {"secretKeyRef"}, f"{name} is inlined"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_workload_has_probes_limits_and_a_locked_down_context(
    name: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    for deployment in by_kind(rendered[name], "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        main = container(deployment)
        assert main["livenessProbe"]["httpGet"]["path"] == "/health"
        assert main["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert main["resources"]["limits"]["memory"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        assert main["securityContext"]["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_deployment_has_a_pdb_and_a_service_selecting_its_pods(
    name: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    objects = rendered[name]
    deployments = by_kind(objects, "Deployment")
    pdbs = by_kind(objects, "PodDisruptionBudget")
    services = by_kind(objects, "Service")
    assert set(pdbs) == set(deployments) == set(services)
    for component, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for selector in (
            pdbs[component]["spec"]["selector"]["matchLabels"],
            services[component]["spec"]["selector"],
        ):
            assert selector.items() <= labels.items()
        assert "minAvailable" not in pdbs[component]["spec"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_pdb_blocks_a_node_drain(
    name: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    """A drain may evict a pod only while the budget allows one disruption:
    with maxUnavailable >= 1 it always does, a single replica included."""
    deployments = by_kind(rendered[name], "Deployment")
    for component, pdb in by_kind(rendered[name], "PodDisruptionBudget").items():
        replicas = deployments[component]["spec"]["replicas"]
        allowed = min(pdb["spec"]["maxUnavailable"], replicas)
        assert allowed >= 1, f"{component}: {replicas} replicas, none may go"


def test_a_single_replica_still_gets_a_pdb_that_lets_it_be_drained(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["mcp-only"]
    deployment = by_kind(objects, "Deployment")["mcp"]["spec"]
    assert deployment["replicas"] == 1
    assert by_kind(objects, "PodDisruptionBudget")["mcp"]["spec"] == {
        "maxUnavailable": 1,
        "selector": deployment["selector"],
    }


@pytest.mark.parametrize("affinity", ["None", "ClientIP"])
def test_the_mcp_service_can_keep_each_client_on_one_pod(
    affinity: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    """ClientIP affinity is how an operator makes an answered confirmation
    single use across replicas (docs/mcp.md, replicas)."""
    values = copy.deepcopy(SCENARIOS["mcp-only"])
    values["mcp"].setdefault("service", {})["sessionAffinity"] = affinity
    jsonschema.validate(merged(values), SCHEMA)

    service = by_kind(manifests(values), "Service")["mcp"]

    assert service["spec"]["sessionAffinity"] == affinity
    kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)
    default = by_kind(rendered["mcp-only"], "Service")["mcp"]
    assert default["spec"]["sessionAffinity"] == "None"


def test_the_values_schema_refuses_an_unknown_session_affinity() -> None:
    values = merged(SCENARIOS["mcp-only"])
    values["mcp"]["service"]["sessionAffinity"] = "Cookie"

    with pytest.raises(jsonschema.ValidationError, match="Cookie"):
        jsonschema.validate(values, SCHEMA)


PRIVATE_CA = {
    "extraEnv": [
        {"name": "SSL_CERT_FILE", "value": "/etc/jarvice-ca/ca.crt"},
        {"name": "HTTPS_PROXY", "value": "http://proxy.example.org:3128"},
        {"name": "NO_PROXY", "value": "jarvice.example.org,.svc"},
    ],
    "extraVolumes": [{"name": "jarvice-ca", "configMap": {"name": "jarvice-ca"}}],
    "extraVolumeMounts": [
        {"name": "jarvice-ca", "mountPath": "/etc/jarvice-ca", "readOnly": True}
    ],
}


def test_a_ca_bundle_and_a_proxy_reach_both_services() -> None:
    values = deep_merge(SCENARIOS["socket"], PRIVATE_CA)
    jsonschema.validate(merged(values), SCHEMA)
    objects = manifests(values)
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)

    deployments = by_kind(objects, "Deployment")
    assert set(deployments) == {"slack", "mcp"}
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        main = container(deployment)
        assert env_of(main)["SSL_CERT_FILE"] == "/etc/jarvice-ca/ca.crt"
        assert env_of(main)["NO_PROXY"] == "jarvice.example.org,.svc"
        assert [v["name"] for v in pod["volumes"]] == ["tmp", "jarvice-ca"]
        assert main["volumeMounts"][1] == PRIVATE_CA["extraVolumeMounts"][0]
    (job,) = [o for o in objects if o["kind"] == "Job"]
    assert [v["name"] for v in job["spec"]["template"]["spec"]["volumes"]] == ["tmp"]


def test_mcp_flags_follow_the_values(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    default = container(by_kind(rendered["socket"], "Deployment")["mcp"])["args"]
    assert default[:7] == [
        "jarvice-mcp",
        "--transport",
        "http",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    assert "--read-only" not in default
    pinned = container(by_kind(rendered["http-ingress"], "Deployment")["mcp"])
    assert pinned["args"][7:] == ["--read-only", "--toolsets", "jobs,machines"]
    assert pinned["image"].endswith("@sha256:" + "0123456789abcdef" * 4)


PRE_HOOKS = {"pre-install", "pre-upgrade"}
EXISTING_ACCOUNT = {"serviceAccount": {"create": False, "name": "jarvice-existing"}}


def hook_events(obj: dict[str, Any]) -> set[str]:
    annotations = obj["metadata"].get("annotations") or {}
    return set(filter(None, annotations.get("helm.sh/hook", "").split(",")))


def references(workload: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of every object a workload's pod spec names."""
    pod = workload["spec"]["template"]["spec"]
    found = {("Secret", s["name"]) for s in pod.get("imagePullSecrets", [])}
    if "serviceAccountName" in pod:
        found.add(("ServiceAccount", pod["serviceAccountName"]))
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            found.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume:
            found.add(("ConfigMap", volume["configMap"]["name"]))
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            found.add(("PersistentVolumeClaim", claim))
    for box in [*pod.get("initContainers", []), *pod["containers"]]:
        for entry in box.get("env", []):
            source = entry.get("valueFrom", {})
            for key, kind in (
                ("secretKeyRef", "Secret"),
                ("configMapKeyRef", "ConfigMap"),
            ):
                if key in source:
                    found.add((kind, source[key]["name"]))
        for entry in box.get("envFrom", []):
            for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if key in entry:
                    found.add((kind, entry[key]["name"]))
    return found


@pytest.mark.parametrize(
    "values",
    [*SCENARIOS.values(), deep_merge(SCENARIOS["socket"], EXISTING_ACCOUNT)],
    ids=[*SCENARIOS, "socket-existing-account"],
)
def test_pre_install_hooks_name_only_objects_that_exist_before_them(
    values: dict[str, Any],
) -> None:
    """Helm creates the chart's own objects only after the pre-install hooks
    have run: a hook may name the Secrets (and an existing service account)
    the operator made beforehand, never an object of the chart."""
    objects = manifests(values)
    hooks = [o for o in objects if hook_events(o) & PRE_HOOKS]
    chart_made = {
        (o["kind"], o["metadata"]["name"]) for o in objects if not hook_events(o)
    }
    full = merged(values)
    made_beforehand = {("Secret", full["slack"]["secret"]["name"])}
    if not full["serviceAccount"]["create"]:
        made_beforehand.add(("ServiceAccount", full["serviceAccount"]["name"]))
    for hook in hooks:
        named = references(hook)
        assert not named & chart_made, f"{hook['metadata']['name']} names {named}"
        assert named <= made_beforehand, named
    assert bool(hooks) == full["slack"]["enabled"]


def test_migrations_run_as_a_pre_upgrade_hook_with_only_the_database_url(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    (job,) = [o for o in rendered["socket"] if o["kind"] == "Job"]
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert set(hooks) == {"pre-install", "pre-upgrade"}
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["args"] == ["python", "-m", "slack_bot.store", "upgrade"]
    assert set(env_of(main)) == {"DATABASE_URL"}
    assert not [o for o in rendered["mcp-only"] if o["kind"] == "Job"]
