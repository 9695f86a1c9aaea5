"""Configuration of the prefecthq/prefect provider for Prefect Cloud or a server."""

from __future__ import annotations

import os
import re
import urllib.parse
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformStack
from constructs import Construct

from ._errors import ConfigurationError
from ._resources import PrefectProviderBlock
from ._templates import contains_token

_CLOUD_IDS_PATTERN = re.compile(
    r"/api/accounts/(?P<account>[^/]+)/workspaces/(?P<workspace>[^/]+)/?$"
)
_UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


@dataclass(frozen=True)
class ProviderSettings:
    """Provider settings that the pools of a stack are checked against.

    Attributes:
        cloud: Whether the endpoint is Prefect Cloud, or `None` when the
            endpoint is a Terraform expression known only at plan time.
        workspace_id: The default workspace, set on the provider or in the
            endpoint URL; `None` when there is none.
    """

    cloud: bool | None
    workspace_id: str | None


_SETTINGS_BY_STACK: weakref.WeakKeyDictionary[TerraformStack, ProviderSettings] = (
    weakref.WeakKeyDictionary()
)


def is_cloud_endpoint(endpoint: str) -> bool:
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    return host == "prefect.cloud" or host.endswith(".prefect.cloud")


def provider_settings(scope: Construct) -> ProviderSettings | None:
    """Return the settings of the Prefect provider in the stack of `scope`."""
    return stack_provider_settings(TerraformStack.of(scope))


def stack_provider_settings(stack: TerraformStack) -> ProviderSettings | None:
    """Return the settings of the Prefect provider in `stack`, if it has one."""
    return _SETTINGS_BY_STACK.get(stack)


class PrefectProvider(PrefectProviderBlock):
    """The prefecthq/prefect provider, configured for one Prefect API.

    Each value is taken from its argument, else from Prefect's standard
    environment variable at synth time. The endpoint and IDs are written into
    `cdk.tf.json`, so `terraform apply` targets the server that synth saw.
    Secrets are never written there: the provider reads `PREFECT_API_KEY` and
    `PREFECT_BASIC_AUTH_KEY` from the environment of `terraform apply`, or takes
    a sensitive Terraform variable passed as `api_key` or `basic_auth_key`.

    Example:
        PrefectProvider(stack, "prefect", endpoint="http://127.0.0.1:4200/api")

    Args:
        endpoint: The Prefect API URL. Defaults to `PREFECT_API_URL`. For Prefect
            Cloud it may carry the IDs, as in
            `https://api.prefect.cloud/api/accounts/<account>/workspaces/<workspace>`.
            With neither, synthesis fails instead of targeting Prefect Cloud,
            which is the provider's own default.
        account_id: Prefect Cloud account ID. Defaults to
            `PREFECT_CLOUD_ACCOUNT_ID`, then to the ID in the endpoint URL.
        workspace_id: Prefect Cloud workspace ID. If omitted, the ID in the
            endpoint URL is used; pools may also set their own.
        api_key: A Terraform token for the Prefect Cloud API key, such as a
            sensitive `TerraformVariable`. If omitted, the provider reads
            `PREFECT_API_KEY` when Terraform runs.
        basic_auth_key: A Terraform token for `user:password` of a server with
            basic auth. If omitted, the provider reads `PREFECT_BASIC_AUTH_KEY`.
        csrf_enabled: Fetch a CSRF token before each request, for servers with
            CSRF protection. If omitted, the provider's default (`False`) applies.
        environ: Environment to read instead of `os.environ`, for tests.

    Raises:
        ConfigurationError: No endpoint is set; a secret is a literal string;
            a self-hosted endpoint gets a workspace_id or account_id; a Cloud
            endpoint has no account.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: str | None = None,
        account_id: str | None = None,
        workspace_id: str | None = None,
        api_key: str | None = None,
        basic_auth_key: str | None = None,
        csrf_enabled: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        endpoint = endpoint or environ.get("PREFECT_API_URL") or None
        # An account in the environment applies to Prefect Cloud only, so a
        # self-hosted endpoint ignores it instead of failing.
        if account_id is None and _is_literal_cloud_endpoint(endpoint):
            account_id = environ.get("PREFECT_CLOUD_ACCOUNT_ID") or None
        path = f"{TerraformStack.of(scope).node.path}/{id}"

        problems, settings = _check(
            endpoint, account_id, workspace_id, api_key, basic_auth_key
        )
        if problems:
            raise ConfigurationError("PrefectProvider", path, problems)

        super().__init__(
            scope,
            id,
            endpoint=endpoint,
            account_id=account_id if settings.cloud is not False else None,
            workspace_id=workspace_id if settings.cloud is not False else None,
            api_key=api_key,
            basic_auth_key=basic_auth_key,
            csrf_enabled=csrf_enabled,
        )
        _SETTINGS_BY_STACK[TerraformStack.of(self)] = settings

        from .work_pool import check_pools_against_provider

        check_pools_against_provider(self, settings)


def _is_literal_cloud_endpoint(endpoint: str | None) -> bool:
    return bool(endpoint) and not contains_token(endpoint) and is_cloud_endpoint(
        endpoint
    )


def _check(
    endpoint: str | None,
    account_id: str | None,
    workspace_id: str | None,
    api_key: str | None,
    basic_auth_key: str | None,
) -> tuple[list[str], ProviderSettings]:
    problems: list[str] = []
    for name, value, variable in (
        ("api_key", api_key, "PREFECT_API_KEY"),
        ("basic_auth_key", basic_auth_key, "PREFECT_BASIC_AUTH_KEY"),
    ):
        if value is not None and not contains_token(value):
            problems.append(
                f"{name} must not be a literal string, because it would be written "
                f"into cdk.tf.json. Set {variable} in the environment of "
                "terraform apply, or pass a sensitive TerraformVariable's value."
            )

    if endpoint is None:
        problems.append(
            "no Prefect API endpoint is set, and the provider would then target "
            "Prefect Cloud. Pass endpoint= or set PREFECT_API_URL, for example "
            "http://127.0.0.1:4200/api for a local server."
        )
        return problems, ProviderSettings(cloud=None, workspace_id=None)
    if contains_token(endpoint):
        return problems, ProviderSettings(cloud=None, workspace_id=workspace_id)

    parsed = urllib.parse.urlsplit(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        problems.append(
            f"endpoint must be an http or https URL, got {endpoint!r}. "
            "Use the value of PREFECT_API_URL, such as http://127.0.0.1:4200/api."
        )
        return problems, ProviderSettings(cloud=None, workspace_id=None)

    ids = _CLOUD_IDS_PATTERN.search(parsed.path)
    if not is_cloud_endpoint(endpoint):
        for name, value in (("workspace_id", workspace_id), ("account_id", account_id)):
            if value is not None:
                problems.append(
                    f"{name} is only for Prefect Cloud, but endpoint {endpoint!r} is "
                    f"a self-hosted server. Remove {name}."
                )
        return problems, ProviderSettings(cloud=False, workspace_id=None)

    account = account_id or (ids and ids["account"])
    workspace = workspace_id or (ids and ids["workspace"]) or None
    if not account:
        problems.append(
            f"endpoint {endpoint!r} is Prefect Cloud, but no account is set. "
            "Pass account_id=, set PREFECT_CLOUD_ACCOUNT_ID, or use the "
            "/api/accounts/<account>/workspaces/<workspace> form of the URL."
        )
    for name, value in (("account_id", account), ("workspace_id", workspace)):
        if value and not contains_token(value) and not _UUID_PATTERN.match(value):
            problems.append(f"{name} must be a UUID, got {value!r}.")
    return problems, ProviderSettings(cloud=True, workspace_id=workspace)
