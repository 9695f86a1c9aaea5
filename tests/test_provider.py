"""PrefectProvider: endpoint, Cloud and secret handling."""

from __future__ import annotations

import json

import cdktf
import pytest
from cdktf import TerraformStack, TerraformVariable

from constructs_prefect import ConfigurationError, PrefectProvider
from tests.helpers import synth

ACCOUNT = "00000000-0000-0000-0000-000000000000"
WORKSPACE = "11111111-2222-3333-4444-555555555555"
CLOUD_URL = f"https://api.prefect.cloud/api/accounts/{ACCOUNT}/workspaces/{WORKSPACE}"


def _stack() -> TerraformStack:
    return TerraformStack(cdktf.Testing.app(), "test")


def _provider_block(stack: TerraformStack) -> dict:
    return synth(stack)["provider"]["prefect"][0]


def _error(**kwargs) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        PrefectProvider(_stack(), "prefect", **kwargs)
    return caught.value


class TestPrefectProvider:
    def test_endpoint_from_environment(self):
        stack = _stack()

        PrefectProvider(
            stack, "prefect", environ={"PREFECT_API_URL": "http://127.0.0.1:4200/api"}
        )

        assert _provider_block(stack) == {"endpoint": "http://127.0.0.1:4200/api"}

    def test_argument_wins_over_environment(self):
        stack = _stack()

        PrefectProvider(
            stack,
            "prefect",
            endpoint="http://127.0.0.1:4300/api",
            environ={"PREFECT_API_URL": "http://127.0.0.1:4200/api"},
        )

        assert _provider_block(stack)["endpoint"] == "http://127.0.0.1:4300/api"

    def test_secrets_from_environment_not_written(self):
        stack = _stack()

        PrefectProvider(
            stack,
            "prefect",
            environ={
                "PREFECT_API_URL": CLOUD_URL,
                "PREFECT_API_KEY": "pnu_secret_value",
                "PREFECT_BASIC_AUTH_KEY": "admin:secret",
            },
        )

        text = cdktf.Testing.synth(stack)
        assert "pnu_secret_value" not in text
        assert "admin:secret" not in text

    def test_cloud_url_keeps_ids_in_endpoint(self):
        stack = _stack()

        PrefectProvider(stack, "prefect", endpoint=CLOUD_URL, environ={})

        assert _provider_block(stack) == {"endpoint": CLOUD_URL}

    def test_cloud_account_from_environment(self):
        stack = _stack()

        PrefectProvider(
            stack,
            "prefect",
            endpoint="https://api.prefect.cloud/api",
            workspace_id=WORKSPACE,
            environ={"PREFECT_CLOUD_ACCOUNT_ID": ACCOUNT},
        )

        assert _provider_block(stack) == {
            "account_id": ACCOUNT,
            "endpoint": "https://api.prefect.cloud/api",
            "workspace_id": WORKSPACE,
        }

    def test_api_key_token_is_a_reference(self):
        stack = _stack()
        key = TerraformVariable(stack, "prefect_api_key", type="string", sensitive=True)

        PrefectProvider(
            stack, "prefect", endpoint=CLOUD_URL, api_key=key.string_value, environ={}
        )

        assert _provider_block(stack)["api_key"] == "${var.prefect_api_key}"

    def test_fails_without_endpoint(self):
        error = _error(environ={})

        assert str(error) == (
            "PrefectProvider 'test/prefect': no Prefect API endpoint is set, and "
            "the provider would then target Prefect Cloud. Pass endpoint= or set "
            "PREFECT_API_URL, for example http://127.0.0.1:4200/api for a local "
            "server."
        )

    def test_fails_on_literal_api_key(self):
        error = _error(endpoint=CLOUD_URL, api_key="pnu_literal", environ={})

        assert "api_key must not be a literal string" in str(error)
        assert "Set PREFECT_API_KEY in the environment" in str(error)
        assert "pnu_literal" not in str(error)

    def test_fails_on_literal_basic_auth_key(self):
        error = _error(
            endpoint="http://127.0.0.1:4200/api", basic_auth_key="a:b", environ={}
        )

        assert "basic_auth_key must not be a literal string" in str(error)

    def test_fails_on_workspace_for_self_hosted(self):
        error = _error(
            endpoint="http://127.0.0.1:4200/api", workspace_id=WORKSPACE, environ={}
        )

        assert "workspace_id is only for Prefect Cloud" in str(error)

    def test_fails_on_cloud_without_account(self):
        error = _error(endpoint="https://api.prefect.cloud/api", environ={})

        assert "is Prefect Cloud, but no account is set" in str(error)

    def test_fails_on_non_uuid_workspace(self):
        error = _error(
            endpoint="https://api.prefect.cloud/api",
            account_id=ACCOUNT,
            workspace_id="prod",
            environ={},
        )

        assert "workspace_id must be a UUID, got 'prod'." in str(error)

    def test_fails_on_endpoint_without_scheme(self):
        error = _error(endpoint="127.0.0.1:4200/api", environ={})

        assert "endpoint must be an http or https URL" in str(error)

    def test_self_hosted_never_emits_workspace(self):
        stack = _stack()

        PrefectProvider(
            stack,
            "prefect",
            environ={
                "PREFECT_API_URL": "http://127.0.0.1:4200/api",
                "PREFECT_CLOUD_ACCOUNT_ID": ACCOUNT,
            },
        )

        assert "workspace_id" not in json.dumps(synth(stack))
        assert "account_id" not in json.dumps(synth(stack))
