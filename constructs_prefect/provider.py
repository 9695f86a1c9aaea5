"""Configuration of the prefecthq/prefect provider for Prefect Cloud or a server."""

from __future__ import annotations

import os
import re
import urllib.parse
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformStack
from constructs import Construct

from ._errors import ConfigurationError
from ._resources import PrefectProviderBlock
from ._templates import contains_token
from ._validation import TERRAFORM_NAME_PATTERN, is_uuid

# The provider (v3.4.1) reads IDs from an endpoint of exactly this form, and
# treats a host containing one of these names as Prefect Cloud.
_CLOUD_IDS_PATTERN = re.compile(
    r"^https://[^/]+/api/accounts/(?P<account>[a-zA-Z0-9-]+)"
    r"/workspaces/(?P<workspace>[a-zA-Z0-9-]+)$"
)
_CLOUD_HOST_PARTS = (
    "api.prefect.cloud",
    "api.prefect.dev",
    "api.stg.prefect.dev",
    "private.prefect.cloud",
    "private.prefect.dev",
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
    return any(part in endpoint for part in _CLOUD_HOST_PARTS)


_SETTINGS_BY_PROVIDER: weakref.WeakKeyDictionary[Construct, ProviderSettings] = (
    weakref.WeakKeyDictionary()
)


def settings_of_provider(provider: Construct) -> ProviderSettings | None:
    """Return the settings of a `PrefectProvider`, or `None` for another kind."""
    return _SETTINGS_BY_PROVIDER.get(provider)


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
        alias: Terraform alias, for a second provider in the same stack; pass
            the instance to pools as `provider=`. If omitted, this is the
            stack's default `prefect` provider, of which there can be one.
        environ: Environment to read instead of `os.environ`, for tests.

    Raises:
        ConfigurationError: No endpoint is set, or it is not an http(s) URL or
            contains credentials. A secret is a literal string. A self-hosted
            endpoint gets a workspace_id or account_id. A Cloud endpoint has
            no account, or an ID is not a UUID. The stack already has a
            default provider.
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
        alias: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        path = f"{scope.node.path}/{id}"
        try:
            stack = TerraformStack.of(scope)
        except RuntimeError:
            raise ConfigurationError(
                "PrefectProvider",
                path,
                [
                    "the provider is not inside a TerraformStack. Create it with a "
                    "stack as its scope."
                ],
            ) from None
        if environ is not None and not isinstance(environ, Mapping):
            raise ConfigurationError(
                "PrefectProvider",
                path,
                [f"environ must be a mapping like os.environ, got {environ!r}."],
            )
        environ = os.environ if environ is None else environ
        endpoint_source = "endpoint"
        if endpoint is None and environ.get("PREFECT_API_URL"):
            endpoint, endpoint_source = environ["PREFECT_API_URL"], "PREFECT_API_URL"
        if isinstance(endpoint, str) and not contains_token(endpoint):
            endpoint = endpoint.strip().rstrip("/") or None
        account_source = "account_id"
        # An account in the environment applies to Prefect Cloud only, so a
        # self-hosted endpoint ignores it instead of failing.
        if account_id is None and _is_literal_cloud_endpoint(endpoint):
            account_id = environ.get("PREFECT_CLOUD_ACCOUNT_ID") or None
            account_source = "PREFECT_CLOUD_ACCOUNT_ID"

        problems = _type_problems(
            endpoint, account_id, workspace_id, csrf_enabled, alias
        )
        if alias is None and stack in _SETTINGS_BY_STACK:
            problems.append(
                "the stack already has a default Prefect provider. Pass alias= "
                "to add another one, and pass it to pools as provider=."
            )
        settings = ProviderSettings(cloud=None, workspace_id=None)
        if not problems:
            more, settings = _check(
                endpoint,
                endpoint_source,
                account_id,
                account_source,
                workspace_id,
                api_key,
                basic_auth_key,
            )
            problems += more
        if problems:
            raise ConfigurationError("PrefectProvider", path, problems)
        if alias is None:
            # Pools declared earlier are checked before the provider joins the
            # tree, so a failed check leaves the stack as it was.
            from .work_pool import check_pools_against_provider

            check_pools_against_provider(stack, settings)

        super().__init__(
            scope,
            id,
            endpoint=endpoint,
            account_id=account_id if settings.cloud is not False else None,
            workspace_id=workspace_id if settings.cloud is not False else None,
            api_key=api_key,
            basic_auth_key=basic_auth_key,
            csrf_enabled=csrf_enabled,
            alias=alias,
        )
        _SETTINGS_BY_PROVIDER[self] = settings
        if alias is None:
            _SETTINGS_BY_STACK[stack] = settings


def _is_literal_cloud_endpoint(endpoint: Any) -> bool:
    return (
        isinstance(endpoint, str)
        and bool(endpoint)
        and not contains_token(endpoint)
        and is_cloud_endpoint(endpoint)
    )


def _type_problems(
    endpoint: Any, account_id: Any, workspace_id: Any, csrf_enabled: Any, alias: Any
) -> list[str]:
    problems = []
    for name, value in (
        ("endpoint", endpoint),
        ("account_id", account_id),
        ("workspace_id", workspace_id),
    ):
        if value is not None and not isinstance(value, str):
            problems.append(f"{name} must be a string, got {value!r}.")
    if csrf_enabled is not None and not isinstance(csrf_enabled, bool):
        problems.append(f"csrf_enabled must be True or False, got {csrf_enabled!r}.")
    if alias is not None and (
        not isinstance(alias, str) or not TERRAFORM_NAME_PATTERN.match(alias)
    ):
        problems.append(
            f"alias must be a Terraform name such as 'staging', got {alias!r}."
        )
    return problems


def _check(
    endpoint: str | None,
    endpoint_source: str,
    account_id: str | None,
    account_source: str,
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
            f"{endpoint_source} must be an http or https URL, got {endpoint!r}. "
            "Use the value of PREFECT_API_URL, such as http://127.0.0.1:4200/api."
        )
        return problems, ProviderSettings(cloud=None, workspace_id=None)
    if parsed.username is not None or parsed.password is not None:
        problems.append(
            f"{endpoint_source} must not contain credentials, because the endpoint "
            "is written into cdk.tf.json. Remove them from the URL and set "
            "PREFECT_BASIC_AUTH_KEY in the environment of terraform apply."
        )
        return problems, ProviderSettings(cloud=None, workspace_id=None)

    if not is_cloud_endpoint(endpoint):
        for name, value in (("workspace_id", workspace_id), ("account_id", account_id)):
            if value is not None:
                problems.append(
                    f"{name} is only for Prefect Cloud, but endpoint {endpoint!r} is "
                    f"a self-hosted server. Remove {name}."
                )
        return problems, ProviderSettings(cloud=False, workspace_id=None)

    if parsed.scheme != "https":
        problems.append(
            f"{endpoint_source} {endpoint!r} is Prefect Cloud, which needs https."
        )
    ids = _CLOUD_IDS_PATTERN.match(endpoint)
    account = account_id or (ids and ids["account"])
    workspace = workspace_id or (ids and ids["workspace"]) or None
    if not account:
        problems.append(
            f"endpoint {endpoint!r} is Prefect Cloud, but no account is set. "
            "Pass account_id=, set PREFECT_CLOUD_ACCOUNT_ID, or use the "
            "/api/accounts/<account>/workspaces/<workspace> form of the URL."
        )
    sources = (
        ("account_id" if account_id is None else account_source, account),
        ("workspace_id", workspace),
    )
    for name, value in sources:
        if value and not contains_token(value) and not is_uuid(value):
            problems.append(f"{name} must be a UUID, got {value!r}.")
    return problems, ProviderSettings(cloud=True, workspace_id=workspace)
