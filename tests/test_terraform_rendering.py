"""Rendered templates, evaluated by the real Terraform CLI.

The prefecthq/prefect provider is not needed: each test copies the rendered
`base_job_template` expression into an output of a provider-less
configuration, applies it with Terraform, and compares the decoded value with
the template the construct promises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from cdktf import TerraformVariable

from constructs_prefect import WorkerMetadata, WorkPoolWithDefaults
from tests.helpers import new_stack, synth

TERRAFORM = shutil.which("terraform")
BUNDLED = WorkerMetadata.bundled()


def _evaluate(tmp_path, expression: str, extra: dict | None = None):
    """Apply `expression` as an output and return its decoded JSON value."""
    config = {
        "output": {"template": {"value": f"${{jsondecode({expression})}}"}},
        **(extra or {}),
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    env = {**os.environ, "HOME": str(tmp_path)}
    for command in (
        ["init", "-input=false"],
        ["apply", "-auto-approve", "-input=false"],
    ):
        result = subprocess.run(
            [TERRAFORM, *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(
        [TERRAFORM, "output", "-json", "template"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture(autouse=True)
def _require_terraform():
    assert TERRAFORM, "terraform is not on PATH; run scripts/setup"


def _pool_config(stack, extra_locals: dict | None = None) -> dict:
    """Return the pool's template as `local.t`, beside the stack's own locals."""
    document = synth(stack)
    text = document["resource"]["prefect_work_pool"]["pool"]["base_job_template"]
    locals_ = {**document.get("locals", {}), **(extra_locals or {}), "t": text}
    config = {"locals": locals_}
    if "variable" in document:
        config["variable"] = document["variable"]
    return config


def test_literal_template_round_trips(tmp_path):
    stack = new_stack()
    env = {"SHELL_HOME": "${HOME}", "LOOP": "%{ if x }", "QUOTE": 'a "b"'}
    WorkPoolWithDefaults(
        stack,
        "pool",
        name="p",
        type="kubernetes",
        job_variables={"env": env, "namespace": "flows"},
    )

    value = _evaluate(tmp_path, "local.t", _pool_config(stack))

    expected = BUNDLED.template("kubernetes")
    expected["variables"]["properties"]["env"]["default"] = env
    expected["variables"]["properties"]["namespace"]["default"] = "flows"
    assert value == expected


def test_token_values_round_trip(tmp_path):
    stack = new_stack()
    image = TerraformVariable(stack, "image", type="string", default='org/"quoted":1')
    tag = image.string_value
    WorkPoolWithDefaults(
        stack,
        "pool",
        name="p",
        type="docker",
        job_variables={
            "image": tag,
            "env": {
                "MIXED": f'pre "{tag}" \\ %{{x}} ${{HOME}}',
                "NONE": None,
            },
        },
        job_configuration={"labels": {"image": tag}},
    )

    value = _evaluate(tmp_path, "local.t", _pool_config(stack))

    properties = value["variables"]["properties"]
    assert properties["image"]["default"] == 'org/"quoted":1'
    assert properties["env"]["default"] == {
        "MIXED": 'pre "org/"quoted":1" \\ %{x} ${HOME}',
        "NONE": None,
    }
    assert value["job_configuration"]["labels"] == {"image": 'org/"quoted":1'}
    assert value["job_configuration"]["image"] == "{{ image }}"


def test_terraform_time_merge_round_trips(tmp_path):
    stack = new_stack()
    job_variables = {
        "cpu": 1024,
        "env": {"A": "1", 'Q"': 'a"b\\c %{x} ${y}', "N": None},
        "cluster": None,
    }
    WorkPoolWithDefaults(
        stack,
        "pool",
        name="p",
        type="ecs",
        worker_metadata=WorkerMetadata.from_terraform(),
        job_variables=job_variables,
    )
    config = _pool_config(stack)
    data_reference = (
        "data.prefect_worker_metadata.prefect_worker_metadata.base_job_configs.ecs"
    )
    assert data_reference in config["locals"]["t"]
    # The bundled template takes the place of the data source's attribute.
    config["locals"]["t"] = config["locals"]["t"].replace(
        data_reference, "local.source"
    )
    config["locals"]["source"] = json.dumps(BUNDLED.template("ecs")).replace(
        "${", "$${"
    )

    value = _evaluate(tmp_path, "local.t", config)

    expected = BUNDLED.template("ecs")
    for name, default in job_variables.items():
        expected["variables"]["properties"][name]["default"] = default
    assert value == expected
