"""The Bicep under infra/, checked on its syntax tree (pycep-parser): what the app needs is deployed,
identity-based, and nothing secret sits in a setting. Compiling and what-if need the Bicep CLI, which
cannot be installed here (infra/README.md gives the commands)."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest

from tests.infra import bicep as b
from tests.infra.bicep import accessor, body, branches

# Resource types and the API versions we reviewed against the current references. A new type, or a
# version older than listed, fails here so that it is chosen on purpose.
API_VERSIONS = {
    "Microsoft.Web/sites": "2024-11-01",
    "Microsoft.Web/serverfarms": "2024-11-01",
    "Microsoft.Storage/storageAccounts": "2025-01-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2025-01-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2025-01-01",
    "Microsoft.Storage/storageAccounts/queueServices": "2025-01-01",
    "Microsoft.Storage/storageAccounts/queueServices/queues": "2025-01-01",
    "Microsoft.Storage/storageAccounts/tableServices": "2025-01-01",
    "Microsoft.Storage/storageAccounts/tableServices/tables": "2025-01-01",
    "Microsoft.Storage/storageAccounts/managementPolicies": "2025-01-01",
    "Microsoft.KeyVault/vaults": "2024-11-01",
    "Microsoft.KeyVault/vaults/secrets": "2024-11-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials": "2023-01-31",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.OperationalInsights/workspaces": "2023-09-01",
    "Microsoft.Resources/deploymentScripts": "2023-08-01",
    "Microsoft.ContainerService/managedClusters": "2024-09-01",
}

ROLE = {
    "blob_owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "blob_contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "queue_contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "table_contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "kv_secrets_user": "4633458b-17de-408a-b874-0445c86b69e6",
    "aks_cluster_user": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "aks_rbac_writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
}

# Settings Flex Consumption rejects or ignores (the runtime and scale live in functionAppConfig).
FLEX_UNSUPPORTED = {
    "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT", "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "SCM_DO_BUILD_DURING_DEPLOYMENT", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE",
    "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT", "WEBSITE_NODE_DEFAULT_VERSION",
}
SECRET_SETTINGS = {"PROW_HMAC_SECRET", "GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY"}
IDENTITY_URIS = ("blobServiceUri", "queueServiceUri", "tableServiceUri")


@pytest.mark.parametrize("path", b.bicep_files(), ids=lambda p: str(p.relative_to(b.INFRA)))
def test_every_bicep_file_parses(path):
    tree = b.parse(path)
    assert tree["resources"], f"{path}: no resources"


def test_resource_types_and_api_versions_are_the_reviewed_ones():
    seen = {}
    for path, name, resource in b.all_resources():
        type_, version = resource["type"], resource["api_version"]
        assert type_ in API_VERSIONS, f"{path.name}:{name}: {type_} is new; review its API version and add it here"
        assert date.fromisoformat(version[:10]) >= date.fromisoformat(API_VERSIONS[type_]), \
            f"{path.name}:{name}: {type_}@{version} is older than {API_VERSIONS[type_]}"
        assert "preview" not in version, f"{path.name}:{name}: preview API {version}"
        seen.setdefault(type_, version)
    missing = set(API_VERSIONS) - set(seen)
    assert not missing, f"listed but not deployed: {sorted(missing)}"


def test_function_app_runs_python_on_flex_consumption_with_an_always_ready_http_group():
    tree = b.main()
    (plan,) = b.resources_of_type(tree, "Microsoft.Web/serverfarms").values()
    assert body(plan)["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert body(plan)["properties"]["reserved"] is True  # Linux
    site = b.function_app()
    assert site["kind"] == "functionapp,linux"
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"]["name"] == "python"
    version_param = tree["parameters"][config["runtime"]["version"]]
    assert version_param["default"] == "3.11"
    always_ready = {g["name"]: g["instanceCount"] for g in config["scaleAndConcurrency"]["alwaysReady"]}
    assert set(always_ready) == {"http"}
    assert tree["parameters"][always_ready["http"]]["default"] >= 1
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"]["type"] == "UserAssignedIdentity"
    assert accessor(storage["authentication"]["userAssignedIdentityResourceId"]) == ["appIdentity", "id"]
    assert "${hostStorage.properties.primaryEndpoints.blob}" in storage["value"]


def test_https_only_and_minimum_tls_everywhere():
    site = b.function_app()
    assert site["properties"]["httpsOnly"] is True
    assert site["properties"]["siteConfig"]["minTlsVersion"] == "1.2"
    assert site["properties"]["siteConfig"]["scmMinTlsVersion"] == "1.2"
    assert site["properties"]["siteConfig"]["ftpsState"] == "Disabled"
    accounts = [r for _, _, r in b.all_resources()
                if r["type"] == "Microsoft.Storage/storageAccounts" and not r["existing"]]
    assert len(accounts) == 2
    for account in accounts:
        props = body(account)["properties"]
        assert props["supportsHttpsTrafficOnly"] is True
        assert props["minimumTlsVersion"] == "TLS1_2"
        assert props["allowSharedKeyAccess"] is False, "account keys must not work at all"
        assert props["defaultToOAuthAuthentication"] is True


def _satisfied(setting: str, settings: dict, connections: set[str]) -> bool:
    if setting in settings:
        return True
    if setting in connections:  # an identity-based connection: <name>__<service>Uri
        return all(f"{setting}__{uri}" in settings for uri in IDENTITY_URIS)
    return False


def test_every_app_setting_the_code_or_the_readme_names_is_set():
    reads, connections = b.code_settings()
    connections |= {"AzureWebJobsStorage"}  # the host's own storage, always a connection
    wanted = reads | connections | b.readme_settings()
    settings = b.app_settings()
    missing = sorted(s for s in wanted if not _satisfied(s, settings, connections))
    assert not missing, f"read by the code or listed in README.md but not set in infra/main.bicep: {missing}"


def test_the_setting_scan_finds_what_the_code_reads():
    # The scan is the source of the list above: it must see the known reads ...
    reads, connections = b.code_settings()
    assert {"PROW_HMAC_SECRET", "PROW_CONFIG_PATH", "GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY",
            "PROW_KUBECONFIG"} <= reads
    assert "PROW_STORAGE" in connections
    assert {"PROW_DASHBOARD_URL", "AzureWebJobsStorage"} <= b.readme_settings()
    # ... and each form a new read can take.
    source = '''
import os
NEW_SETTING = "PROW_NEW_A"
NAMES = ("PROW_NEW_B", "PROW_NEW_C")
def f(env=None):
    env = os.environ if env is None else env
    env.get(NEW_SETTING); os.environ["PROW_NEW_D"]; os.getenv("PROW_NEW_E")
    env["POD_ENV_WRITTEN"] = "x"  # a write (e.g. a pod's env) is not a read
    return tuple(os.environ.get(name, "") for name in (*NAMES, "PROW_NEW_F"))
@bp.queue_trigger(arg_name="m", queue_name="q", connection="PROW_NEW_CONN")
def g(m): ...
'''
    reads, connections = b.settings_read(source)
    assert reads == {f"PROW_NEW_{x}" for x in "ABCDEF"}
    assert connections == {"PROW_NEW_CONN"}


def test_storage_connections_are_identity_based_and_no_key_is_anywhere():
    settings = b.app_settings()
    for connection in ("AzureWebJobsStorage", "PROW_STORAGE"):
        assert connection not in settings, f"{connection} as a connection string would hold a key"
        assert settings[f"{connection}__credential"] == "managedidentity"
        assert accessor(settings[f"{connection}__clientId"]) == ["appIdentity", "properties", "clientId"]
    assert not FLEX_UNSUPPORTED & set(settings)
    for name in settings:
        if name != "APPLICATIONINSIGHTS_CONNECTION_STRING":
            assert not re.search(r"(?i)(connectionstring|accountkey|_key$|sas)", name) or name in SECRET_SETTINGS, name
    for path in b.bicep_files():
        text = json.dumps(b.parse(path))
        for marker in ("listKeys", "list_keys", "AccountKey=", "listAccountSas", "list_account_sas",
                       "SharedAccessSignature", "primaryMasterKey"):
            assert marker not in text, f"{path.name}: {marker}"


def test_secrets_are_key_vault_references_and_never_literal():
    settings = b.app_settings()
    for name in SECRET_SETTINGS:
        values = [v for v in branches(settings[name]) if v != ""]
        assert values, f"{name} is never set"
        for value in values:
            assert isinstance(value, str) and value.startswith("@Microsoft.KeyVault(SecretUri=${kvSecretUri}/"), \
                f"{name} = {value!r} is not a Key Vault reference"
    # exactly one GitHub credential at a time: an App deployment has no token setting, and back
    token, key = settings["GITHUB_TOKEN"], settings["GITHUB_APP_PRIVATE_KEY"]
    assert token["operator"]["operands"]["condition"] == key["operator"]["operands"]["condition"] == "useGitHubApp"
    assert token["operator"]["operands"]["true_value"] == "" and key["operator"]["operands"]["false_value"] == ""
    site = b.function_app()
    assert accessor(site["properties"]["keyVaultReferenceIdentity"]) == ["appIdentity", "id"]
    tree = b.main()
    for param in ("hmacSecret", "githubToken", "githubAppPrivateKey"):
        assert any(d["type"] == "secure" for d in tree["parameters"][param]["decorators"]), param
    (vault,) = b.resources_of_type(tree, "Microsoft.KeyVault/vaults").values()
    props = body(vault)["properties"]
    assert props["enableRbacAuthorization"] is True and props["enablePurgeProtection"] is True


def _role_assignments(tree: dict) -> list[tuple[str, str, list[str]]]:
    """(scope symbol, role id, principal accessor) of every role assignment in a file."""
    roles = tree["variables"].get("roles", {}).get("value", {})
    out = []
    for name, r in b.resources_of_type(tree, "Microsoft.Authorization/roleAssignments").items():
        config = body(r)
        role_arg = config["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        role = roles.get(accessor(role_arg)[-1]) if accessor(role_arg)[0] == "roles" else b.variable(tree, role_arg)
        out.append((config["scope"], role, accessor(config["properties"]["principalId"])))
    return out


def test_the_app_identity_holds_the_data_roles_it_needs():
    app = ["appIdentity", "properties", "principalId"]
    granted = {(scope, role) for scope, role, principal in _role_assignments(b.main()) if principal == app}
    assert {("dataStorage", ROLE["blob_contributor"]), ("dataStorage", ROLE["queue_contributor"]),
            ("dataStorage", ROLE["table_contributor"]), ("hostStorage", ROLE["blob_owner"]),
            ("hostStorage", ROLE["queue_contributor"]), ("hostStorage", ROLE["table_contributor"]),
            ("keyVault", ROLE["kv_secrets_user"])} <= granted
    # AKS: the module grants the principal main passes, which is the app's
    aks_call = body(b.main()["modules"]["aks"])
    assert accessor(aks_call["params"]["appPrincipalId"]) == app
    aks_grants = {(scope, role) for scope, role, p in _role_assignments(b.module_tree("aks")) if p == ["appPrincipalId"]}
    assert {("cluster", ROLE["aks_cluster_user"]), ("cluster", ROLE["aks_rbac_writer"])} <= aks_grants


def test_queues_tables_and_containers_the_code_uses_exist():
    tree = b.main()
    names = b.code_storage_names()
    queues = set(b.variable(tree, "queueNames"))
    tables = set(b.variable(tree, "tableNames"))
    containers = set(b.variable(tree, "privateContainers")) | set(tree["parameters"]["artifactContainers"]["default"])
    assert names["QUEUE"] <= queues
    assert {f"{q}-poison" for q in b.trigger_queues()} <= queues
    assert names["TABLE"] <= tables
    assert names["CONTAINER"] - {"$web"} <= containers
    # the example config's artifact bucket is a container of the default deployment
    example = (b.ROOT / "examples/prow/config.yaml").read_text()
    for bucket in re.findall(r"bucket:\s*([\w:/.-]+)", example):
        assert bucket.split("://")[-1].split("/")[0] in containers
    # the loops that create them iterate exactly those variables
    loops = {body_name: r["config"]["loop_type"]["detail"]["array_name"]
             for body_name, r in tree["resources"].items() if "loop_type" in r["config"]}
    assert loops["dataQueues"] == "queueNames" and loops["dataTables"] == "tableNames"
    assert loops["dataPrivateContainers"] == "privateContainers"
    assert loops["artifactContainerResources"] == "artifactContainers"


def test_private_containers_stay_private():
    tree = b.main()
    assert body(tree["resources"]["dataPrivateContainers"])["properties"]["publicAccess"] == "None"
    artifacts = body(tree["resources"]["artifactContainerResources"])["properties"]["publicAccess"]
    assert branches(artifacts) == ["Container", "None"]   # the dashboard lists a run's artifacts
    host = body(tree["resources"]["hostStorage"])["properties"]
    assert host["allowBlobPublicAccess"] is False


def test_lifecycle_policy_expires_artifacts_and_raw_deliveries():
    tree = b.main()
    (policy,) = b.resources_of_type(tree, "Microsoft.Storage/storageAccounts/managementPolicies").values()
    rules = {r["name"]: r["definition"] for r in body(policy)["properties"]["policy"]["rules"]}
    artifact = rules["artifact-retention"]
    assert artifact["filters"]["prefixMatch"]["loop_type"]["detail"]["array_name"] == "artifactContainers"
    assert artifact["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == "artifactRetentionDays"
    deliveries = rules["raw-delivery-retention"]
    assert deliveries["filters"]["prefixMatch"] == ["webhooks/"]
    assert deliveries["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == "deliveryRetentionDays"


def test_dashboard_origin_may_read_blobs_and_the_static_website_is_enabled():
    tree = b.main()
    rule = body(tree["resources"]["dataBlobService"])["properties"]["cors"]["corsRules"][0]
    assert "dataStorage.properties.primaryEndpoints.web" in json.dumps(rule["allowedOrigins"]).replace(
        '"operand_1": "dataStorage", "operand_2": {"operator": {"type": "property_accessor", "operands": '
        '{"operand_1": "properties", "operand_2": {"operator": {"type": "property_accessor", "operands": '
        '{"operand_1": "primaryEndpoints", "operand_2": "web"}}}}}}', "dataStorage.properties.primaryEndpoints.web")
    assert set(rule["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}
    website = tree["modules"]["staticWebsite"]
    assert website["detail"]["path"] == "modules/static-website.bicep"
    assert accessor(body(website)["params"]["storageAccountName"]) == ["dataStorage", "name"]
    module = b.module_tree("static-website")
    (script,) = b.resources_of_type(module, "Microsoft.Resources/deploymentScripts").values()
    content = body(script)["properties"]["scriptContent"]["function"]
    assert content["type"] == "load_text_content"
    shell = (b.INFRA / "modules" / content["parameters"]["file_path"]).read_text()
    assert "--static-website" in shell and "--auth-mode login" in shell and "--404-document" in shell
    assert "account-key" not in shell and "connection-string" not in shell
    assert b.app_settings()["PROW_DASHBOARD_URL"] == {"operator": {"type": "property_accessor", "operands": {
        "operand_1": "dataStorage", "operand_2": {"operator": {"type": "property_accessor", "operands": {
            "operand_1": "properties", "operand_2": {"operator": {"type": "property_accessor", "operands": {
                "operand_1": "primaryEndpoints", "operand_2": "web"}}}}}}}}}


def test_application_insights_is_workspace_based_and_entra_only():
    tree = b.main()
    (component,) = b.resources_of_type(tree, "Microsoft.Insights/components").values()
    props = body(component)["properties"]
    assert accessor(props["WorkspaceResourceId"]) == ["logAnalytics", "id"]
    assert props["DisableLocalAuth"] is True
    settings = b.app_settings()
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"].endswith("Authorization=AAD")


def test_aks_has_workload_identity_and_an_isolated_pool_for_untrusted_jobs():
    tree = b.module_tree("aks")
    (cluster,) = b.resources_of_type(tree, "Microsoft.ContainerService/managedClusters").values()
    props = body(cluster)["properties"]
    assert props["oidcIssuerProfile"]["enabled"] is True
    assert props["securityProfile"]["workloadIdentity"]["enabled"] is True
    assert props["disableLocalAccounts"] is True and props["aadProfile"]["enableAzureRBAC"] is True
    pools = {p["name"]: p for p in props["agentPoolProfiles"]}
    assert "prow.k8s.io/untrusted=true:NoSchedule" in pools["untrusted"]["nodeTaints"]
    assert all("untrusted" not in t for name, p in pools.items() if name != "untrusted"
               for t in p.get("nodeTaints", []))
    federations = b.resources_of_type(tree, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
    subjects = {body(f)["properties"]["subject"] for f in federations.values()}
    assert subjects == {"system:serviceaccount:${jobNamespace}:${uploaderServiceAccount}",
                        "system:serviceaccount:${untrustedNamespace}:${uploaderServiceAccount}"}


@pytest.mark.parametrize("module", ["staticWebsite", "aks"])
def test_module_calls_pass_exactly_known_parameters(module):
    call = b.main()["modules"][module]
    target = b.parse(b.INFRA / call["detail"]["path"])
    passed = set(body(call)["params"])
    declared = target["parameters"]
    assert passed <= set(declared), f"unknown parameters: {passed - set(declared)}"
    required = {n for n, p in declared.items() if "default" not in p}
    assert required <= passed, f"required parameters not passed: {required - passed}"


def test_outputs_reference_symbols_that_exist():
    tree = b.main()
    symbols = set(tree["resources"]) | set(tree["modules"]) | set(tree["parameters"]) | set(tree["variables"])
    def roots(node):
        path = accessor(node)
        if isinstance(node, str):
            yield from re.findall(r"\$\{(\w+)\.", node)  # interpolation in a string
        elif len(path) > 1:
            yield path[0]
        elif isinstance(node, dict):
            for value in node.values():
                yield from roots(value)

    referenced = 0
    for name, output in tree["outputs"].items():
        for root in roots(output["value"]):
            referenced += 1
            assert root in symbols, f"output {name} refers to {root}"
    assert referenced >= len(tree["outputs"])
