"""Synthesis helpers shared by the unit tests."""

from __future__ import annotations

import json
from typing import Any

import cdktf
from cdktf import TerraformStack

from constructs_prefect import PrefectProvider

LOCAL_API_URL = "http://127.0.0.1:4200/api"
CLOUD_API_URL = "https://api.prefect.cloud/api"
CLOUD_ACCOUNT = "00000000-0000-0000-0000-000000000000"


def cloud_provider_arguments() -> dict[str, Any]:
    """Arguments of a Prefect Cloud provider with an account and no workspace."""
    return {"endpoint": CLOUD_API_URL, "account_id": CLOUD_ACCOUNT, "environ": {}}


def new_cloud_stack() -> TerraformStack:
    """Return a stack whose provider targets Prefect Cloud without a workspace."""
    stack = TerraformStack(cdktf.Testing.app(), "test")
    PrefectProvider(stack, "prefect", **cloud_provider_arguments())
    return stack


def new_stack(endpoint: str | None = LOCAL_API_URL) -> TerraformStack:
    """Return a stack with a provider for a self-hosted server."""
    stack = TerraformStack(cdktf.Testing.app(), "test")
    if endpoint is not None:
        PrefectProvider(stack, "prefect", endpoint=endpoint, environ={})
    return stack


def synth(stack: TerraformStack) -> dict[str, Any]:
    return json.loads(cdktf.Testing.synth(stack))


def pool_block(stack: TerraformStack, terraform_name: str) -> dict[str, Any]:
    return synth(stack)["resource"]["prefect_work_pool"][terraform_name]


def rendered_template(stack: TerraformStack, terraform_name: str) -> dict[str, Any]:
    return json.loads(pool_block(stack, terraform_name)["base_job_template"])
