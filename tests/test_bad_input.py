"""Bad input found by trying to break the constructs, case by case.

Every case must raise the package's own error at construct time, name the
construct path, and leave the stack usable.
"""

from __future__ import annotations

import json
import math
from types import MappingProxyType

import cdktf
import pytest
from cdktf import TerraformStack, TerraformVariable

from constructs_prefect import (
    ConfigurationError,
    PrefectProvider,
    WorkerMetadata,
    WorkerMetadataError,
    WorkPoolWithDefaults,
)
from tests.helpers import new_stack, pool_block, rendered_template, synth

SIMPLE_TEMPLATE = {
    "job_configuration": {"command": "{{ command }}"},
    "variables": {"properties": {"command": {"type": "string"}}},
}

POOL_CASES = [
    ("inf_limit", {"concurrency_limit": math.inf}, "must be a finite integer"),
    ("nan_limit", {"concurrency_limit": math.nan}, "must be a finite integer"),
    ("huge_limit", {"concurrency_limit": 2**70}, "must be at most"),
    (
        "nan_job_variable",
        {"type": "kubernetes", "job_variables": {"finished_job_ttl": math.nan}},
        "is nan, which JSON cannot represent",
    ),
    (
        "nan_in_template",
        {
            "base_job_template": {
                **SIMPLE_TEMPLATE,
                "job_configuration": {"command": "{{ command }}", "n": math.nan},
            }
        },
        "base_job_template is not valid JSON",
    ),
    ("nan_in_patch", {"job_configuration": {"x": math.nan}}, "not valid JSON"),
    ("name_list", {"name": ["a"]}, "name must be a string, got ['a']."),
    ("name_newline", {"name": "a\nb"}, "puts unescaped"),
    ("name_query", {"name": "a?b"}, "contains '?'"),
    ("workspace_list", {"workspace_id": ["x"]}, "workspace_id must be a UUID"),
    ("account_not_uuid", {"account_id": "abc"}, "account_id must be a UUID"),
    ("metadata_string", {"worker_metadata": "bundled"}, "worker_metadata must be"),
    ("provider_string", {"provider": "prefect"}, "provider must be"),
    ("adopt_string", {"adopt": "no"}, "adopt must be True or False, got 'no'."),
    (
        "env_int_key",
        {"job_variables": {"env": {"A": "x", 1: "y"}}},
        "has the key 1 of type int",
    ),
    ("patch_int_key", {"job_configuration": {1: "x"}}, "has the key 1 of type int"),
    ("patch_set", {"job_configuration": {"x": {1, 2}}}, "which is not a JSON value"),
    (
        "property_not_schema",
        {
            "base_job_template": {
                "job_configuration": {"command": "{{ command }}"},
                "variables": {"properties": {"command": 5}},
            }
        },
        "variables.properties['command'] must be a JSON schema object",
    ),
    (
        "unknown_schema_type",
        {
            "base_job_template": {
                "job_configuration": {"command": "{{ command }}"},
                "variables": {"properties": {"command": {"type": "strin"}}},
            },
            "job_variables": {"command": "x"},
        },
        "its schema cannot be evaluated",
    ),
    (
        "dangling_ref",
        {
            "base_job_template": {
                "job_configuration": {"command": "{{ command }}"},
                "variables": {
                    "properties": {"command": {"$ref": "#/definitions/Missing"}}
                },
            },
            "job_variables": {"command": "x"},
        },
        "its schema cannot be evaluated",
    ),
    (
        "env_list_location",
        {"job_variables": {"env": ["A=1"]}},
        "job_variables['env'] = ['A=1'] is invalid: ['A=1'] is not of type 'object'.",
    ),
    (
        "bad_block_reference",
        {"type": "docker", "job_variables": {"image": {"$ref": "garbage"}}},
        "is not a valid block reference",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [case[1:] for case in POOL_CASES],
    ids=[case[0] for case in POOL_CASES],
)
def test_pool_rejects_bad_input(arguments, expected):
    stack = new_stack()

    with pytest.raises(ConfigurationError) as caught:
        WorkPoolWithDefaults(
            stack, "etl", **{"name": "etl", "type": "process", **arguments}
        )

    assert caught.value.construct_path == "test/etl"
    assert expected in str(caught.value)


def test_failed_pool_leaves_no_state():
    stack = new_stack()
    with pytest.raises(ConfigurationError):
        WorkPoolWithDefaults(stack, "etl", name="etl", type="proces")

    WorkPoolWithDefaults(stack, "etl", name="etl", type="process")

    assert pool_block(stack, "etl")["name"] == "etl"


def test_repeated_id_is_configuration_error():
    stack = new_stack()
    WorkPoolWithDefaults(stack, "etl", name="a", type="process")

    with pytest.raises(ConfigurationError) as caught:
        WorkPoolWithDefaults(stack, "etl", name="b", type="process")

    assert "id 'etl' is invalid: There is already a Construct with name" in str(
        caught.value
    )


def test_all_template_problems_reported_together():
    stack = new_stack()

    with pytest.raises(ConfigurationError) as caught:
        WorkPoolWithDefaults(
            stack,
            "etl",
            name="a/b",
            type="process",
            concurrency_limit=-1,
            job_variables={"comand": 1},
        )

    messages = caught.value.problems
    assert any("contains '/'" in message for message in messages)
    assert any("concurrency_limit must be 0" in message for message in messages)
    assert any("job_variables['comand']" in message for message in messages)


def test_patch_token_becomes_reference():
    stack = new_stack()
    namespace = TerraformVariable(stack, "ns", type="string")

    WorkPoolWithDefaults(
        stack,
        "pool",
        name="p",
        type="kubernetes",
        job_configuration={"namespace": namespace.string_value},
    )

    text = pool_block(stack, "pool")["base_job_template"]
    assert '"namespace":${jsonencode(local.pool_template_values.v0)}' in text
    assert synth(stack)["locals"]["pool_template_values"] == {"v0": "${var.ns}"}


def test_name_interpolation_is_escaped():
    stack = new_stack()

    WorkPoolWithDefaults(
        stack, "pool", name="a${HOME}", type="process", description="%{ if x }"
    )

    block = pool_block(stack, "pool")
    assert block["name"] == "a$${HOME}"
    assert block["description"] == "%%{ if x }"


def test_token_paused_is_accepted():
    stack = new_stack()
    paused = TerraformVariable(stack, "paused", type="bool")

    WorkPoolWithDefaults(
        stack, "pool", name="p", type="process", paused=paused.boolean_value
    )

    assert pool_block(stack, "pool")["paused"] == "${var.paused}"


def test_token_template_is_used_as_is():
    stack = new_stack()
    template = TerraformVariable(stack, "template", type="string")

    WorkPoolWithDefaults(
        stack, "pool", name="p", type="process", base_job_template=template.string_value
    )

    assert pool_block(stack, "pool")["base_job_template"] == "${var.template}"


def test_token_template_rejects_job_variables():
    stack = new_stack()
    template = TerraformVariable(stack, "template", type="string")

    with pytest.raises(ConfigurationError) as caught:
        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="process",
            base_job_template=template.string_value,
            job_variables={"command": "x"},
        )

    assert "base_job_template that is a Terraform expression" in str(caught.value)


def test_literal_secret_default_warns():
    stack = new_stack()
    credentials = {"username": "u", "password": "hunter2", "registry_url": "r.io"}

    pool = WorkPoolWithDefaults(
        stack,
        "pool",
        name="p",
        type="docker",
        job_variables={"registry_credentials": credentials},
    )

    warnings = [entry.data for entry in pool.node.metadata]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "[constructs_prefect:secret-in-template] job variable 'registry_credentials'"
    )


class TestAddJobVariable:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("", "must not be empty"),
            ("a..b", "has the empty or padded step ''"),
            (" command", "has the empty or padded step ' command'"),
            ([], "must not be empty"),
            (5, "must be a dotted string or a sequence"),
            (["job_manifest", None], "has the step None"),
            ("command", "already has the value '{{ command }}'"),
        ],
    )
    def test_rejects_bad_path(self, path, expected):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "pool", name="p", type="kubernetes")

        with pytest.raises(ConfigurationError) as caught:
            pool.add_job_variable(
                "extra", schema={"type": "string"}, placeholder_path=path
            )

        assert expected in str(caught.value)

    def test_rejects_non_boolean_required(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "pool", name="p", type="process")

        with pytest.raises(ConfigurationError) as caught:
            pool.add_job_variable(
                "extra", schema={}, placeholder_path="extra", required="yes"
            )

        assert "required must be True or False, got 'yes'." in str(caught.value)

    def test_failed_call_changes_nothing(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "pool", name="p", type="process")
        before = rendered_template(stack, "pool")

        with pytest.raises(ConfigurationError):
            pool.add_job_variable(
                "extra", schema={"type": "integer"}, default="x", placeholder_path="e"
            )

        assert rendered_template(stack, "pool") == before


PROVIDER_CASES = [
    ("endpoint_int", {"endpoint": 5}, "endpoint must be a string, got 5."),
    (
        "credentials_in_url",
        {"endpoint": "http://admin:pw@127.0.0.1:4200/api"},
        "must not contain credentials",
    ),
    (
        "cloud_over_http",
        {
            "endpoint": "http://api.prefect.cloud/api",
            "account_id": "00000000-0000-0000-0000-000000000000",
            "workspace_id": "11111111-2222-3333-4444-555555555555",
        },
        "is Prefect Cloud, which needs https",
    ),
    (
        "dev_cloud_is_cloud",
        {"endpoint": "https://api.prefect.dev/api"},
        "is Prefect Cloud, but no account is set",
    ),
    (
        "csrf_string",
        {"endpoint": "http://127.0.0.1:4200/api", "csrf_enabled": "yes"},
        "csrf_enabled must be True or False",
    ),
    ("environ_list", {"environ": ["PREFECT_API_URL"]}, "environ must be a mapping"),
]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [case[1:] for case in PROVIDER_CASES],
    ids=[case[0] for case in PROVIDER_CASES],
)
def test_provider_rejects_bad_input(arguments, expected):
    stack = TerraformStack(cdktf.Testing.app(), "test")
    arguments = {"environ": {}, **arguments}

    with pytest.raises(ConfigurationError) as caught:
        PrefectProvider(stack, "prefect", **arguments)

    assert expected in str(caught.value)


def test_provider_account_from_environment_named():
    stack = TerraformStack(cdktf.Testing.app(), "test")

    with pytest.raises(ConfigurationError) as caught:
        PrefectProvider(
            stack,
            "prefect",
            endpoint="https://api.prefect.cloud/api",
            environ={"PREFECT_CLOUD_ACCOUNT_ID": "acct-1"},
        )

    assert "PREFECT_CLOUD_ACCOUNT_ID must be a UUID, got 'acct-1'." in str(caught.value)


def test_provider_trailing_slash_is_removed():
    stack = TerraformStack(cdktf.Testing.app(), "test")

    PrefectProvider(
        stack, "prefect", endpoint=" http://127.0.0.1:4200/api/ ", environ={}
    )

    assert synth(stack)["provider"]["prefect"] == [
        {"endpoint": "http://127.0.0.1:4200/api"}
    ]


def test_second_default_provider_is_rejected():
    stack = new_stack()

    with pytest.raises(ConfigurationError) as caught:
        PrefectProvider(
            stack, "other", endpoint="http://127.0.0.1:4201/api", environ={}
        )

    assert "the stack already has a default Prefect provider" in str(caught.value)


def test_aliased_provider_serves_a_pool():
    stack = new_stack()
    staging = PrefectProvider(
        stack,
        "staging",
        endpoint="http://127.0.0.1:4201/api",
        alias="staging",
        environ={},
    )

    WorkPoolWithDefaults(stack, "pool", name="p", type="process", provider=staging)

    document = synth(stack)
    assert document["provider"]["prefect"][1] == {
        "alias": "staging",
        "endpoint": "http://127.0.0.1:4201/api",
    }
    assert document["resource"]["prefect_work_pool"]["pool"]["provider"] == (
        "prefect.staging"
    )


METADATA_CASES = [
    ({"process": {"a": 1}}, "the template of type 'process' is invalid"),
    (
        {
            "process": {
                "job_configuration": {"a": "{{ nope }}"},
                "variables": {"properties": {}},
            }
        },
        "uses undeclared placeholder(s) nope",
    ),
    (
        {"prefect": {"w": {"type": "process", "default_base_job_configuration": "x"}}},
        "it must be a JSON object",
    ),
    ({"worker_types": []}, "worker_types must map each type"),
    ({"worker_types": {"process": {}}}, "worker_types must map each type"),
    ({}, "has no work pool types"),
]


@pytest.mark.parametrize(("data", "expected"), METADATA_CASES)
def test_metadata_rejects_bad_templates(data, expected):
    with pytest.raises(WorkerMetadataError) as caught:
        WorkerMetadata.from_dict(data)

    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"api_url": None}, "api_url must be an http or https URL"),
        ({"api_url": ""}, "api_url must be an http or https URL"),
        (
            {"api_url": "http://admin:pw@127.0.0.1:9/api"},
            "api_url must not contain credentials",
        ),
        (
            {"api_url": "http://127.0.0.1:9/api", "timeout_seconds": 0},
            "timeout_seconds must be a positive number of seconds, got 0.",
        ),
        (
            {"api_url": "http://127.0.0.1:9/api", "timeout_seconds": "5"},
            "timeout_seconds must be a positive number",
        ),
    ],
)
def test_from_api_rejects_bad_arguments(arguments, expected):
    with pytest.raises(WorkerMetadataError) as caught:
        WorkerMetadata.from_api(**arguments)

    assert expected in str(caught.value)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize("path", [None, 5, ""])
def test_from_file_rejects_bad_path(path):
    with pytest.raises(WorkerMetadataError) as caught:
        WorkerMetadata.from_file(path)

    assert "path must be a non-empty string or path" in str(caught.value)


def test_from_file_rejects_directory(tmp_path):
    with pytest.raises(WorkerMetadataError) as caught:
        WorkerMetadata.from_file(tmp_path)

    assert "cannot be read: Is a directory." in str(caught.value)


def test_use_for_rejects_non_metadata():
    stack = new_stack()

    with pytest.raises(WorkerMetadataError) as caught:
        WorkerMetadata.use_for(stack, "bundled")

    assert "WorkerMetadata.use_for takes a WorkerMetadata" in str(caught.value)


def test_metadata_keeps_private_copy():
    template = json.loads(json.dumps(SIMPLE_TEMPLATE))
    metadata = WorkerMetadata.from_dict({"custom": template})

    template["variables"]["properties"].clear()

    assert metadata.template("custom") == SIMPLE_TEMPLATE


class TestSecondRound:
    def test_provider_failing_check_leaves_no_state(self):
        stack = TerraformStack(cdktf.Testing.app(), "test")
        workspace = "11111111-2222-3333-4444-555555555555"
        WorkPoolWithDefaults(
            stack, "p", name="p", type="process", workspace_id=workspace
        )

        with pytest.raises(ConfigurationError):
            PrefectProvider(
                stack, "prefect", endpoint="http://127.0.0.1:4200/api", environ={}
            )

        assert stack.node.try_find_child("prefect") is None

    def test_pool_outside_stack(self):
        app = cdktf.Testing.app()

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(app, "p", name="p", type="process")

        assert "the pool is not inside a TerraformStack" in str(caught.value)
        assert app.node.try_find_child("p") is None

    def test_use_for_rejects_non_construct(self):
        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.use_for(None, WorkerMetadata.bundled())

        assert "takes a construct such as a stack" in str(caught.value)

    def test_read_only_mapping_and_tuple(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="docker",
            job_variables={"volumes": ("a:/b",)},
            job_configuration={"labels": MappingProxyType({"a": "1"})},
        )

        template = rendered_template(stack, "pool")
        assert template["variables"]["properties"]["volumes"]["default"] == ["a:/b"]
        assert template["job_configuration"]["labels"] == {"a": "1"}

    def test_deep_nesting_is_rejected(self):
        deep: dict = {}
        node = deep
        for _ in range(400):
            node["x"] = {}
            node = node["x"]
        stack = new_stack()

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack, "pool", name="p", type="process", job_configuration=deep
            )

        assert "is nested deeper than 100 levels" in str(caught.value)

    def test_token_key_is_rejected(self):
        stack = new_stack()
        key = TerraformVariable(stack, "k", type="string").string_value

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack,
                "pool",
                name="p",
                type="process",
                job_variables={"env": {key: "x"}},
            )

        assert "has a Terraform token as a key" in str(caught.value)

    def test_list_token_goes_through_local(self):
        stack = new_stack()
        volumes = TerraformVariable(stack, "volumes", type="list(string)")

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="docker",
            job_variables={"volumes": volumes.list_value},
        )

        assert synth(stack)["locals"]["pool_template_values"] == {
            "v0": "${var.volumes}"
        }

    def test_large_integer_with_terraform_time(self):
        stack = new_stack()

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack,
                "pool",
                name="p",
                type="kubernetes",
                worker_metadata=WorkerMetadata.from_terraform(),
                job_variables={"finished_job_ttl": 2**60 + 1},
            )

        assert "beyond 2**53, which Terraform would round" in str(caught.value)

    def test_large_concurrency_limit(self):
        stack = new_stack()

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack, "pool", name="p", type="process", concurrency_limit=2**63 - 1
            )

        assert "concurrency_limit must be at most 2**53" in str(caught.value)

    def test_lone_surrogate_in_description(self):
        stack = new_stack()

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack, "pool", name="p", type="process", description="a\ud800b"
            )

        assert "description contains a lone surrogate" in str(caught.value)

    def test_data_source_follows_pool_provider(self):
        stack = new_stack()
        staging = PrefectProvider(
            stack,
            "staging",
            endpoint="http://127.0.0.1:4201/api",
            alias="staging",
            environ={},
        )
        metadata = WorkerMetadata.from_terraform()

        WorkPoolWithDefaults(
            stack, "a", name="a", type="process", worker_metadata=metadata
        )
        WorkPoolWithDefaults(
            stack,
            "b",
            name="b",
            type="process",
            worker_metadata=metadata,
            provider=staging,
        )

        sources = synth(stack)["data"]["prefect_worker_metadata"]
        assert sources["prefect_worker_metadata"] == {}
        assert sources["prefect_worker_metadata_1"] == {"provider": "prefect.staging"}

    def test_data_source_id_collision(self):
        stack = new_stack()
        WorkPoolWithDefaults(stack, "PrefectWorkerMetadata0", name="a", type="process")

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack,
                "b",
                name="b",
                type="process",
                worker_metadata=WorkerMetadata.from_terraform(),
            )

        assert "data source cannot be added" in str(caught.value)
        assert stack.node.try_find_child("b") is None

    @pytest.mark.parametrize(
        ("arguments", "expected"),
        [
            ({"api_key": "a\nb"}, "api_key must be a string of printable ASCII"),
            ({"basic_auth_key": 5}, "basic_auth_key must be a string of printable"),
            ({"api_url": "http://127.0.0.1:9/a pi"}, "api_url must be an http"),
            ({"api_url": "http://[::1/api"}, "api_url must be an http"),
        ],
    )
    def test_from_api_rejects_bad_values(self, arguments, expected):
        arguments = {"api_url": "http://127.0.0.1:9/api", **arguments}

        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_api(**arguments)

        assert expected in str(caught.value)

    def test_from_dict_rejects_list_type(self):
        data = {"c": {"w": {"type": ["x"], "default_base_job_configuration": {}}}}

        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_dict(data)

        assert "has the type ['x'], which is not a non-empty string" in str(
            caught.value
        )

    def test_from_file_rejects_null_byte(self):
        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_file("/tmp/a\x00b")

        assert "path must be a non-empty string or path" in str(caught.value)

    def test_long_value_is_cut_in_message(self):
        env = {f"K{index}": "v" for index in range(2000)}
        env["BAD"] = 1
        stack = new_stack()

        with pytest.raises(ConfigurationError) as caught:
            WorkPoolWithDefaults(
                stack, "pool", name="p", type="process", job_variables={"env": env}
            )

        assert len(str(caught.value)) < 1000
        assert "invalid at ['BAD']" in str(caught.value)
