"""Synthesized JSON of WorkPoolWithDefaults, and its errors."""

from __future__ import annotations

import json
import re

import cdktf
import pytest
from cdktf import TerraformStack, TerraformVariable

from constructs_prefect import (
    ConfigurationError,
    PrefectProvider,
    WorkerMetadata,
    WorkPoolWithDefaults,
    terraform_name,
)
from tests.helpers import (
    cloud_provider_arguments,
    new_cloud_stack,
    new_stack,
    pool_block,
    rendered_template,
    synth,
)

BUNDLED = WorkerMetadata.bundled()


class TestDefaults:
    @pytest.mark.parametrize("pool_type", BUNDLED.types)
    def test_no_overrides_gives_metadata_default(self, pool_type):
        stack = new_stack()

        WorkPoolWithDefaults(stack, "pool", name="pool", type=pool_type)

        assert rendered_template(stack, "pool") == BUNDLED.template(pool_type)

    def test_bundled_snapshot_has_self_hosted_types(self):
        assert set(BUNDLED.types) == {
            "azure-container-instance",
            "cloud-run",
            "cloud-run-v2",
            "docker",
            "ecs",
            "kubernetes",
            "process",
            "vertex-ai",
        }

    def test_bundled_snapshot_records_prefect_version(self):
        assert re.fullmatch(r"3\.\d+\.\d+", BUNDLED.prefect_version)

    def test_optional_arguments_are_omitted(self):
        stack = new_stack()

        WorkPoolWithDefaults(stack, "pool", name="pool", type="process")

        block = pool_block(stack, "pool")
        assert sorted(block) == ["base_job_template", "name", "type"]

    def test_passes_pool_arguments_through(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="etl",
            type="process",
            description="ETL flows",
            paused=True,
            concurrency_limit=0,
        )

        block = pool_block(stack, "pool")
        assert block["name"] == "etl"
        assert block["type"] == "process"
        assert block["description"] == "ETL flows"
        assert block["paused"] is True
        assert block["concurrency_limit"] == 0

    def test_default_child_is_the_resource(self):
        stack = new_stack()

        pool = WorkPoolWithDefaults(stack, "pool", name="pool", type="process")

        assert pool.node.default_child is pool.resource
        assert pool.resource.terraform_resource_type == "prefect_work_pool"

    def test_requires_pinned_provider(self):
        stack = new_stack()

        WorkPoolWithDefaults(stack, "pool", name="pool", type="process")

        required = synth(stack)["terraform"]["required_providers"]["prefect"]
        assert required == {"source": "prefecthq/prefect", "version": "3.4.1"}


class TestCanonicalOutput:
    def test_resynthesis_is_byte_identical(self):
        outputs = []
        for _ in range(2):
            stack = new_stack()
            WorkPoolWithDefaults(
                stack,
                "pool",
                name="k8s",
                type="kubernetes",
                job_variables={"namespace": "flows", "env": {"B": "2", "A": "1"}},
            )
            outputs.append(cdktf.Testing.synth(stack))

        assert outputs[0] == outputs[1]

    def test_equal_templates_give_equal_bytes(self):
        template = BUNDLED.template("process")
        reordered = json.loads(json.dumps(template, sort_keys=True))
        reordered = dict(reversed(list(reordered.items())))
        stacks = [new_stack(), new_stack()]

        WorkPoolWithDefaults(
            stacks[0], "pool", name="p", type="process", base_job_template=template
        )
        WorkPoolWithDefaults(
            stacks[1],
            "pool",
            name="p",
            type="process",
            base_job_template=json.dumps(reordered, indent=4),
        )

        texts = [pool_block(stack, "pool")["base_job_template"] for stack in stacks]
        assert texts[0] == texts[1]

    def test_template_is_compact_with_sorted_keys(self):
        stack = new_stack()

        WorkPoolWithDefaults(stack, "pool", name="p", type="docker")

        text = pool_block(stack, "pool")["base_job_template"]
        assert text == json.dumps(
            json.loads(text), sort_keys=True, separators=(",", ":")
        )

    def test_escapes_terraform_interpolation(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="process",
            job_variables={"env": {"HOME_COPY": "${HOME}", "LOOP": "%{ for }"}},
        )

        text = pool_block(stack, "pool")["base_job_template"]
        assert '"$${HOME}"' in text
        assert '"%%{ for }"' in text


class TestJobVariables:
    def test_sets_property_default(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="k8s",
            type="kubernetes",
            job_variables={"image": "org/flows:1.0", "namespace": "flows"},
        )

        template = rendered_template(stack, "pool")
        properties = template["variables"]["properties"]
        assert properties["image"]["default"] == "org/flows:1.0"
        assert properties["namespace"]["default"] == "flows"
        assert "image" not in template["variables"]

    def test_env_keeps_placeholder(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack, "pool", name="p", type="docker", job_variables={"env": {"A": "1"}}
        )

        template = rendered_template(stack, "pool")
        assert template["variables"]["properties"]["env"]["default"] == {"A": "1"}
        assert template["job_configuration"]["env"] == "{{ env }}"

    def test_only_the_overridden_property_changes(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack, "pool", name="p", type="docker", job_variables={"image": "x:1"}
        )

        expected = BUNDLED.template("docker")
        expected["variables"]["properties"]["image"]["default"] = "x:1"
        assert rendered_template(stack, "pool") == expected

    def test_validates_refs_into_definitions(self):
        stack = new_stack()
        credentials = {"username": "u", "password": "p", "registry_url": "r.io"}

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="docker",
            job_variables={"registry_credentials": credentials},
        )

        properties = rendered_template(stack, "pool")["variables"]["properties"]
        assert properties["registry_credentials"]["default"] == credentials

    def test_block_reference_skips_validation(self):
        stack = new_stack()
        reference = {"$ref": {"block_document_id": "0b9d1d5e-0000-0000-0000-1"}}

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="docker",
            job_variables={"registry_credentials": reference},
        )

        properties = rendered_template(stack, "pool")["variables"]["properties"]
        assert properties["registry_credentials"]["default"] == reference

    def test_token_value_is_rendered_as_reference(self):
        stack = new_stack()
        image = TerraformVariable(stack, "image", type="string")

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="docker",
            job_variables={"image": image.string_value},
        )

        text = pool_block(stack, "pool")["base_job_template"]
        assert '"image":{"default":${jsonencode(local.pool_template_values.v0)},' in (
            text
        )
        assert synth(stack)["locals"] == {
            "pool_template_values": {"v0": "${var.image}"}
        }

    def test_token_number_skips_validation(self):
        stack = new_stack()
        ttl = TerraformVariable(stack, "ttl", type="number")

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="kubernetes",
            job_variables={"finished_job_ttl": ttl.number_value},
        )

        text = pool_block(stack, "pool")["base_job_template"]
        assert '"default":${jsonencode(local.pool_template_values.v0)}' in text
        assert synth(stack)["locals"]["pool_template_values"] == {"v0": "${var.ttl}"}


class TestDeeperEdits:
    def test_patch_job_configuration_deep_merges(self):
        stack = new_stack()
        patch = {"job_manifest": {"metadata": {"annotations": {"team": "data"}}}}

        WorkPoolWithDefaults(
            stack, "pool", name="p", type="kubernetes", job_configuration=patch
        )

        manifest = rendered_template(stack, "pool")["job_configuration"]["job_manifest"]
        assert manifest["metadata"]["annotations"] == {"team": "data"}
        assert manifest["metadata"]["namespace"] == "{{ namespace }}"
        assert manifest["kind"] == "Job"

    def test_add_job_variable_declares_and_places(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "pool", name="p", type="kubernetes")

        pool.add_job_variable(
            "ephemeral_storage_limit",
            schema={"type": "string", "title": "Ephemeral storage limit"},
            default="2Gi",
            placeholder_path="job_manifest.spec.template.spec.containers.0"
            ".resources.limits.ephemeral-storage",
        )

        template = rendered_template(stack, "pool")
        container = template["job_configuration"]["job_manifest"]["spec"]["template"][
            "spec"
        ]["containers"][0]
        limits = container["resources"]["limits"]
        assert limits["ephemeral-storage"] == "{{ ephemeral_storage_limit }}"
        assert limits["memory"] == "{{ memory_limit }}"
        new_property = template["variables"]["properties"]["ephemeral_storage_limit"]
        assert new_property == {
            "type": "string",
            "title": "Ephemeral storage limit",
            "default": "2Gi",
        }

    def test_add_job_variable_required(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "pool", name="p", type="process")

        pool.add_job_variable(
            "team",
            schema={"type": "string"},
            placeholder_path=("labels_team",),
            required=True,
        )

        template = rendered_template(stack, "pool")
        assert "team" in template["variables"]["required"]
        assert template["job_configuration"]["labels_team"] == "{{ team }}"

    def test_complete_template_is_accepted(self):
        stack = new_stack()
        template = {
            "job_configuration": {"command": "{{ command }}"},
            "variables": {
                "type": "object",
                "properties": {"command": {"type": "string", "default": "run"}},
            },
        }

        WorkPoolWithDefaults(
            stack, "pool", name="p", type="custom", base_job_template=template
        )

        assert rendered_template(stack, "pool") == template

    def test_unused_variable_is_reported(self):
        stack = new_stack()
        template = {
            "job_configuration": {"command": "{{ command }}"},
            "variables": {
                "properties": {"command": {"type": "string"}, "spare": {}},
            },
        }

        WorkPoolWithDefaults(
            stack, "pool", name="p", type="custom", base_job_template=template
        )

        warnings = [
            entry.data
            for entry in stack.node.find_child("pool").node.metadata
            if entry.type == "@cdktf/warn"
        ]
        assert warnings == [
            (
                "[constructs_prefect:unused-variable] job variable 'spare' is "
                "declared but no placeholder in job_configuration uses it, so "
                "Prefect ignores it."
            )
        ]


class TestAddress:
    @pytest.mark.parametrize(
        ("construct_id", "expected"),
        [
            ("etl", "etl"),
            ("EtlPool", "etl_pool"),
            ("k8s.gpu pool", "k8s_gpu_pool"),
            ("2024", "pool_2024"),
            ("with-dash", "with-dash"),
        ],
    )
    def test_terraform_name_from_id(self, construct_id, expected):
        assert terraform_name(construct_id) == expected

    def test_address_is_the_synthesized_key(self):
        stack = new_stack()

        pool = WorkPoolWithDefaults(stack, "EtlPool", name="etl", type="process")

        assert pool.address == "prefect_work_pool.etl_pool"
        assert "etl_pool" in synth(stack)["resource"]["prefect_work_pool"]

    def test_adopt_emits_import_block(self):
        stack = new_stack()

        WorkPoolWithDefaults(stack, "etl", name="etl-pool", type="process", adopt=True)

        assert synth(stack)["import"] == [
            {"id": "etl-pool", "to": "prefect_work_pool.etl"}
        ]

    def test_adopt_with_workspace_uses_qualified_id(self):
        stack = new_cloud_stack()
        workspace = "11111111-2222-3333-4444-555555555555"

        WorkPoolWithDefaults(
            stack,
            "etl",
            name="etl",
            type="process",
            workspace_id=workspace,
            adopt=True,
        )

        assert synth(stack)["import"] == [
            {"id": f"etl,{workspace}", "to": "prefect_work_pool.etl"}
        ]

    def test_outputs_are_references(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "etl", name="etl", type="process")

        from cdktf import TerraformOutput

        for attribute in ("id", "default_queue_id", "created", "updated"):
            TerraformOutput(stack, attribute, value=getattr(pool, attribute))

        outputs = synth(stack)["output"]
        assert outputs["id"]["value"] == "${prefect_work_pool.etl.id}"
        assert outputs["default_queue_id"]["value"] == (
            "${prefect_work_pool.etl.default_queue_id}"
        )
        assert outputs["created"]["value"] == "${prefect_work_pool.etl.created}"
        assert outputs["updated"]["value"] == "${prefect_work_pool.etl.updated}"


class TestTerraformTimeTemplate:
    @pytest.mark.parametrize(
        ("pool_type", "attribute"),
        [
            ("process", "process"),
            ("docker", "docker"),
            ("kubernetes", "kubernetes"),
            ("ecs", "ecs"),
            ("ecs:push", "ecs_push"),
            ("cloud-run", "cloud_run"),
            ("cloud-run:push", "cloud_run_push"),
            ("cloud-run-v2", "cloud_run_v2"),
            ("cloud-run-v2:push", "cloud_run_v2_push"),
            ("vertex-ai", "vertex_ai"),
            ("azure-container-instance", "azure_container_instances"),
            ("azure-container-instance:push", "azure_container_instances_push"),
            ("modal:push", "modal_push"),
            ("prefect:managed", "prefect_managed"),
            ("prefect-agent", "prefect_agent"),
        ],
    )
    def test_type_maps_to_data_source_attribute(self, pool_type, attribute):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type=pool_type,
            worker_metadata=WorkerMetadata.from_terraform(),
        )

        assert pool_block(stack, "pool")["base_job_template"] == (
            "${data.prefect_worker_metadata.prefect_worker_metadata"
            f".base_job_configs.{attribute}}}"
        )

    def test_job_variables_merge_in_terraform(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="ecs",
            worker_metadata=WorkerMetadata.from_terraform(),
            job_variables={"cpu": 1024},
        )

        text = pool_block(stack, "pool")["base_job_template"]
        source = "jsondecode(data.prefect_worker_metadata.prefect_worker_metadata"
        assert text.startswith(f"${{jsonencode(merge({source}.base_job_configs.ecs)")
        assert '{"default" = local.pool_template_values.v0}' in text
        assert synth(stack)["locals"]["pool_template_values"] == {"v0": 1024}

    def test_one_data_source_per_stack(self):
        stack = new_stack()
        WorkerMetadata.use_for(stack, WorkerMetadata.from_terraform())

        WorkPoolWithDefaults(stack, "a", name="a", type="ecs")
        WorkPoolWithDefaults(stack, "b", name="b", type="docker")

        assert list(synth(stack)["data"]["prefect_worker_metadata"]) == [
            "prefect_worker_metadata"
        ]


def _error(callable_, *args, **kwargs) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        callable_(*args, **kwargs)
    return caught.value


def _pool_error(**kwargs) -> ConfigurationError:
    stack = new_stack()
    arguments = {"name": "etl", "type": "process", **kwargs}
    return _error(WorkPoolWithDefaults, stack, "etl", **arguments)


class TestErrors:
    def test_error_is_value_error_with_path(self):
        error = _pool_error(concurrency_limit=-1)

        assert isinstance(error, ValueError)
        assert error.construct_path == "test/etl"
        assert str(error) == (
            "WorkPoolWithDefaults 'test/etl': concurrency_limit must be 0 or "
            "greater, got -1. Omit it for no limit."
        )

    def test_unknown_type_lists_types_and_match(self):
        error = _pool_error(type="kubernets")

        message = str(error)
        assert "type 'kubernets' has no default template" in message
        assert "Known types: azure-container-instance, cloud-run," in message
        assert "Did you mean 'kubernetes'?" in message
        assert "Or pass a complete base_job_template." in message

    def test_cloud_only_type_names_sources(self):
        error = _pool_error(type="ecs:push")

        assert "'ecs:push' is served by Prefect Cloud only" in str(error)
        assert "WorkerMetadata.from_terraform()" in str(error)
        assert "WorkerMetadata.from_api(" in str(error)

    def test_unknown_type_at_terraform_time(self):
        error = _pool_error(
            type="nomad", worker_metadata=WorkerMetadata.from_terraform()
        )

        assert "type 'nomad' has no default template" in str(error)
        assert "in the prefect_worker_metadata data source" in str(error)

    def test_misspelled_variable_suggests_names(self):
        error = _pool_error(type="kubernetes", job_variables={"namspace": "x"})

        message = str(error)
        assert "job_variables['namspace'] is not a variable" in message
        assert "'kubernetes' pool's template" in message
        assert "Did you mean 'namespace'" in message
        assert "Declared variables: cluster_config, command," in message

    def test_unknown_variable_without_match(self):
        error = _pool_error(job_variables={"zzz": 1})

        assert "job_variables['zzz'] is not a variable" in str(error)
        assert "Did you mean" not in str(error)

    def test_wrong_value_type(self):
        error = _pool_error(job_variables={"stream_output": "yes"})

        assert str(error).endswith(
            "job_variables['stream_output'] = 'yes' is invalid: "
            "'yes' is not of type 'boolean'."
        )

    def test_enum_violation(self):
        error = _pool_error(
            type="kubernetes", job_variables={"image_pull_policy": "Sometimes"}
        )

        assert "job_variables['image_pull_policy'] = 'Sometimes' is invalid" in str(
            error
        )
        assert "'Sometimes' is not one of ['IfNotPresent', 'Always', 'Never']" in (
            str(error)
        )

    def test_nested_value_error_names_location(self):
        error = _pool_error(job_variables={"env": {"A": 1}})

        assert "job_variables['env'] = {'A': 1} is invalid at ['A']" in str(error)

    def test_ref_definition_violation(self):
        error = _pool_error(
            type="docker", job_variables={"registry_credentials": {"x": 1}}
        )

        assert "job_variables['registry_credentials']" in str(error)
        assert "is invalid" in str(error)

    def test_value_not_json(self):
        error = _pool_error(job_variables={"env": {"A": object}})

        assert "job_variables['env'] must be a JSON value" in str(error)

    def test_every_problem_reported_together(self):
        error = _pool_error(
            job_variables={"stream_output": "yes", "nope": 1},
        )

        assert len(error.problems) == 2

    def test_job_variables_not_mapping(self):
        error = _pool_error(job_variables=["image"])

        assert "job_variables must be a mapping" in str(error)
        assert "got list" in str(error)

    def test_empty_name(self):
        error = _pool_error(name="  ")

        assert str(error) == (
            "WorkPoolWithDefaults 'test/etl': name must not be empty, got '  '. "
            "Pass the work pool's name, such as 'etl'."
        )

    def test_name_not_string(self):
        error = _pool_error(name=42)

        assert "name must be a string, got 42." in str(error)

    def test_name_with_banned_characters(self):
        error = _pool_error(name="etl/prod")

        assert "name 'etl/prod' contains '/'" in str(error)

    def test_reserved_prefect_name(self):
        error = _pool_error(name="Prefect-pool")

        assert "starts with 'prefect'" in str(error)

    def test_empty_type(self):
        error = _pool_error(type="")

        assert "type must be a non-empty string" in str(error)

    def test_negative_concurrency_limit(self):
        error = _pool_error(concurrency_limit=-1)

        assert "concurrency_limit must be 0 or greater, got -1." in str(error)

    def test_fractional_concurrency_limit(self):
        error = _pool_error(concurrency_limit=1.5)

        assert "concurrency_limit must be a whole number, got 1.5." in str(error)

    def test_boolean_concurrency_limit(self):
        error = _pool_error(concurrency_limit=True)

        assert "concurrency_limit must be an integer, got True." in str(error)

    def test_paused_not_boolean(self):
        error = _pool_error(paused="no")

        assert "paused must be True or False, got 'no'." in str(error)

    def test_description_not_string(self):
        error = _pool_error(description=3)

        assert "description must be a string, got 3." in str(error)

    def test_duplicate_pool_name(self):
        stack = new_stack()
        WorkPoolWithDefaults(stack, "a", name="etl", type="process")

        error = _error(WorkPoolWithDefaults, stack, "b", name="etl", type="process")

        assert "name 'etl' is already used by work pool 'test/a'" in str(error)

    def test_duplicate_address(self):
        stack = new_stack()
        WorkPoolWithDefaults(stack, "EtlPool", name="a", type="process")

        error = _error(
            WorkPoolWithDefaults, stack, "etl_pool", name="b", type="process"
        )

        assert "prefect_work_pool.etl_pool is already used by 'test/EtlPool'" in str(
            error
        )

    def test_template_not_object(self):
        error = _pool_error(base_job_template=["job_configuration"])

        assert "base_job_template must be a JSON object" in str(error)
        assert "got list" in str(error)

    def test_template_string_not_json(self):
        error = _pool_error(base_job_template="{not json")

        assert "base_job_template is a string but not valid JSON" in str(error)

    def test_template_without_variables(self):
        error = _pool_error(base_job_template={"job_configuration": {"a": 1}})

        assert "non-empty variables object, got None." in str(error)

    def test_undeclared_placeholder(self):
        template = {
            "job_configuration": {"command": "{{ command }}", "x": "{{ missing }}"},
            "variables": {"properties": {"command": {}}},
        }

        error = _pool_error(base_job_template=template)

        assert "uses undeclared placeholder(s) missing." in str(error)

    def test_patch_adds_undeclared_placeholder(self):
        error = _pool_error(job_configuration={"extra": "{{ nope }}"})

        assert "uses undeclared placeholder(s) nope." in str(error)

    def test_patch_not_mapping(self):
        error = _pool_error(job_configuration="x")

        assert "job_configuration must be a mapping" in str(error)

    def test_add_existing_variable(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "p", name="p", type="kubernetes")

        error = _error(
            pool.add_job_variable,
            "memory_limit",
            schema={"type": "string"},
            placeholder_path="x",
        )

        assert "job variable 'memory_limit' is already declared" in str(error)

    def test_add_variable_bad_default(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "p", name="p", type="process")

        error = _error(
            pool.add_job_variable,
            "retries",
            schema={"type": "integer", "minimum": 0},
            default=-2,
            placeholder_path="retries",
        )

        assert "default of job variable 'retries' = -2 is invalid" in str(error)
        assert "-2 is less than the minimum of 0" in str(error)

    def test_add_variable_invalid_schema(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "p", name="p", type="process")

        error = _error(
            pool.add_job_variable, "v", schema={"type": "strin"}, placeholder_path="v"
        )

        assert "schema of job variable 'v' is not a valid JSON schema" in str(error)

    def test_add_variable_missing_list_item(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "p", name="p", type="kubernetes")

        error = _error(
            pool.add_job_variable,
            "gpu",
            schema={"type": "string"},
            placeholder_path="job_manifest.spec.template.spec.containers.3.image",
        )

        assert "placeholder_path" in str(error)
        assert "nothing at 'job_manifest.spec.template.spec.containers.3'" in str(error)

    def test_add_variable_bad_name(self):
        stack = new_stack()
        pool = WorkPoolWithDefaults(stack, "p", name="p", type="process")

        error = _error(pool.add_job_variable, "my var", schema={}, placeholder_path="v")

        assert "job variable name must be an identifier" in str(error)

    def test_patch_rejected_at_terraform_time(self):
        error = _pool_error(
            worker_metadata=WorkerMetadata.from_terraform(),
            job_configuration={"a": 1},
        )

        assert "job_configuration cannot be applied when the template is read" in (
            str(error)
        )

    def test_token_type_without_template(self):
        stack = new_stack()
        pool_type = TerraformVariable(stack, "type", type="string").string_value

        error = _error(WorkPoolWithDefaults, stack, "p", name="p", type=pool_type)

        assert "type is a Terraform token" in str(error)

    def test_workspace_on_self_hosted(self):
        error = _pool_error(workspace_id="11111111-2222-3333-4444-555555555555")

        assert "workspace_id '11111111-2222-3333-4444-555555555555' is only for " in (
            str(error)
        )
        assert "self-hosted server. Remove workspace_id." in str(error)

    def test_cloud_without_workspace(self):
        stack = new_cloud_stack()

        error = _error(WorkPoolWithDefaults, stack, "p", name="p", type="process")

        assert "no workspace is set" in str(error)

    def test_cloud_without_workspace_provider_declared_later(self):
        stack = TerraformStack(cdktf.Testing.app(), "test")
        WorkPoolWithDefaults(stack, "p", name="p", type="process")

        error = _error(PrefectProvider, stack, "prefect", **cloud_provider_arguments())

        assert error.construct_path == "test/p"
        assert "no workspace is set" in str(error)
