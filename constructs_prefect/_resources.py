"""Terraform blocks of the prefecthq/prefect provider used by the constructs.

NOTE: these classes stand in for the bindings that `cdktf get` generates into
`.gen/`, because the provider cannot be built on this project's machines: the
Go module proxy returns 403 for github.com/prefecthq/terraform-provider-prefect
at every version. The attribute names and types are those of the provider's
schema at v3.4.1 (docs/resources/work_pool.md and docs/index.md of that tag).
They subclass the same cdktf base classes generated bindings do, so the
synthesized JSON has the same shape, and swapping them for generated classes
changes no Terraform address.
"""

from __future__ import annotations

from typing import Any

import cdktf
import jsii
from constructs import Construct

PROVIDER_SOURCE = "prefecthq/prefect"
PROVIDER_VERSION = "3.4.1"

_GENERATOR_METADATA = cdktf.TerraformProviderGeneratorMetadata(
    provider_name="prefect",
    provider_version=PROVIDER_VERSION,
    provider_version_constraint=PROVIDER_VERSION,
)


def _without_unset(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if value is not None}


class PrefectProviderBlock(cdktf.TerraformProvider):
    """The `provider "prefect"` block."""

    TF_RESOURCE_TYPE = "prefect"

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
    ) -> None:
        super().__init__(
            scope,
            id,
            terraform_resource_type=self.TF_RESOURCE_TYPE,
            terraform_generator_metadata=_GENERATOR_METADATA,
            terraform_provider_source=PROVIDER_SOURCE,
        )
        self._attributes = _without_unset(
            {
                "endpoint": endpoint,
                "account_id": account_id,
                "workspace_id": workspace_id,
                "api_key": api_key,
                "basic_auth_key": basic_auth_key,
                "csrf_enabled": csrf_enabled,
            }
        )
        self._alias = alias

    # cdktf's TerraformProvider leaves `alias` to subclasses, as generated
    # bindings do, and reads it through jsii for `fqn` and the alias attribute.
    @property  # type: ignore[override]
    @jsii.member(jsii_name="alias")
    def alias(self) -> str | None:
        return self._alias

    @alias.setter
    def alias(self, value: str | None) -> None:
        self._alias = value

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> dict[str, Any]:
        return dict(self._attributes)


class WorkPoolBlock(cdktf.TerraformResource):
    """The `prefect_work_pool` resource."""

    TF_RESOURCE_TYPE = "prefect_work_pool"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        type: str,
        base_job_template: str | None,
        description: str | None = None,
        paused: bool | None = None,
        concurrency_limit: int | None = None,
        workspace_id: str | None = None,
        account_id: str | None = None,
        provider: cdktf.TerraformProvider | None = None,
        lifecycle: cdktf.TerraformResourceLifecycle | None = None,
        depends_on: list[cdktf.ITerraformDependable] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            terraform_resource_type=self.TF_RESOURCE_TYPE,
            terraform_generator_metadata=_GENERATOR_METADATA,
            provider=provider,
            lifecycle=lifecycle,
            depends_on=depends_on,
        )
        self.attributes: dict[str, Any] = {
            "name": name,
            "type": type,
            "base_job_template": base_job_template,
            "description": description,
            "paused": paused,
            "concurrency_limit": concurrency_limit,
            "workspace_id": workspace_id,
            "account_id": account_id,
        }

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> dict[str, Any]:
        return _without_unset(self.attributes)


class WorkerMetadataBlock(cdktf.TerraformDataSource):
    """The `prefect_worker_metadata` data source."""

    TF_RESOURCE_TYPE = "prefect_worker_metadata"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        workspace_id: str | None = None,
        account_id: str | None = None,
        provider: cdktf.TerraformProvider | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            terraform_resource_type=self.TF_RESOURCE_TYPE,
            terraform_generator_metadata=_GENERATOR_METADATA,
            provider=provider,
        )
        self._attributes = _without_unset(
            {"workspace_id": workspace_id, "account_id": account_id}
        )

    def base_job_config(self, attribute: str) -> str:
        """Token for `base_job_configs.<attribute>`, a JSON string."""
        return self.get_string_attribute(f"base_job_configs.{attribute}")

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> dict[str, Any]:
        return dict(self._attributes)
