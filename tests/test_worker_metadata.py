"""WorkerMetadata sources that need no server."""

from __future__ import annotations

import json

import pytest

from constructs_prefect import WorkerMetadata, WorkerMetadataError, WorkPoolWithDefaults
from tests.helpers import new_stack, rendered_template

TEMPLATE = {
    "job_configuration": {"command": "{{ command }}"},
    "variables": {"properties": {"command": {"type": "string"}}},
}


class TestWorkerMetadata:
    def test_from_dict_type_to_template(self):
        metadata = WorkerMetadata.from_dict({"custom": TEMPLATE})

        assert metadata.types == ("custom",)
        assert metadata.template("custom") == TEMPLATE

    def test_from_dict_aggregate_shape(self):
        aggregate = {
            "prefect-acme": {
                "acme": {"type": "acme", "default_base_job_configuration": TEMPLATE}
            }
        }

        metadata = WorkerMetadata.from_dict(aggregate)

        assert metadata.template("acme") == TEMPLATE

    def test_template_returns_a_copy(self):
        metadata = WorkerMetadata.from_dict({"custom": TEMPLATE})

        metadata.template("custom")["variables"]["properties"].clear()

        assert metadata.template("custom") == TEMPLATE

    def test_from_file(self, tmp_path):
        path = tmp_path / "metadata.json"
        path.write_text(json.dumps({"custom": TEMPLATE}))

        metadata = WorkerMetadata.from_file(path)

        assert metadata.template("custom") == TEMPLATE
        assert metadata.source == f"file:{path}"

    def test_from_file_missing(self, tmp_path):
        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_file(tmp_path / "absent.json")

        assert "absent.json' does not exist." in str(caught.value)

    def test_from_file_not_json(self, tmp_path):
        path = tmp_path / "bad.json"
        path.write_text("{")

        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_file(path)

        assert "is not valid JSON" in str(caught.value)

    def test_from_dict_rejects_non_object_template(self):
        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_dict({"custom": "template"})

        assert str(caught.value) == (
            "Worker metadata from dict: the template of type 'custom' is invalid: "
            "it must be a JSON object with job_configuration and variables, got str."
        )

    def test_construct_argument_selects_source(self):
        stack = new_stack()

        WorkPoolWithDefaults(
            stack,
            "pool",
            name="p",
            type="custom",
            worker_metadata=WorkerMetadata.from_dict({"custom": TEMPLATE}),
        )

        assert rendered_template(stack, "pool") == TEMPLATE

    def test_use_for_sets_stack_source(self):
        stack = new_stack()
        WorkerMetadata.use_for(stack, WorkerMetadata.from_dict({"custom": TEMPLATE}))

        WorkPoolWithDefaults(stack, "pool", name="p", type="custom")

        assert rendered_template(stack, "pool") == TEMPLATE

    def test_from_api_unreachable(self):
        with pytest.raises(WorkerMetadataError) as caught:
            WorkerMetadata.from_api("http://127.0.0.1:9/api", timeout_seconds=2)

        assert "Prefect API at 'http://127.0.0.1:9/api' is unreachable" in str(
            caught.value
        )
