"""Synthesis helpers shared by the unit tests."""

from __future__ import annotations

import json
from typing import Any

import cdktf
from cdktf import TerraformStack

from constructs_prefect import PrefectProvider

LOCAL_API_URL = "http://127.0.0.1:4200/api"


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
