"""End-to-end tests of synthesized templates against a real Prefect server.

The Terraform provider cannot be installed here, so these tests stand in for
`terraform apply`: they create pools with the real `prefect` CLI or post the
synthesized `base_job_template` to the server's REST API, the same endpoint
the provider calls, and compare what the server stores. The servers run on
127.0.0.1 (see `conftest.py`), and no test reaches another host.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

import cdktf
import httpx
import pytest
from prefect.workers.process import ProcessWorker

from constructs_prefect import (
    PrefectProvider,
    WorkerMetadata,
    WorkerMetadataError,
    WorkPoolWithDefaults,
    terraform_name,
)
from tests.helpers import new_stack, pool_block

if TYPE_CHECKING:
    from tests.conftest import PrefectServer

BUNDLED_TYPES = WorkerMetadata.bundled().types
CLI_TIMEOUT_SECONDS = 60


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def synthesized_template(
    stack: cdktf.TerraformStack, pool: WorkPoolWithDefaults
) -> str:
    """Return the pool's `base_job_template` string from the synthesized JSON."""
    return pool_block(stack, terraform_name(pool.node.id))["base_job_template"]


def bundled_aggregate() -> dict[str, Any]:
    """Read the aggregate worker metadata shipped inside the `prefect` package."""
    path = resources.files("prefect.server.api.collections_data").joinpath(
        "views/aggregate-worker-metadata.json"
    )
    return json.loads(path.read_text())


@pytest.fixture(autouse=True)
def bypass_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # `WorkerMetadata.from_api` uses urllib, which honours proxy variables, so
    # a proxy set in the developer's environment could otherwise receive the
    # requests meant for 127.0.0.1.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def api(prefect_server: PrefectServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=prefect_server.api_url, trust_env=False, timeout=30.0
    ) as client:
        yield client


def create_pool(
    api: httpx.Client, server: PrefectServer, name: str, pool_type: str, raw: str
) -> dict[str, Any]:
    """Create a pool over the REST API, as the provider does, and read it back."""
    body = {"name": name, "type": pool_type, "base_job_template": json.loads(raw)}

    created = api.post("/work_pools/", json=body)
    read = api.get(f"/work_pools/{name}")

    assert created.status_code == 201, f"{created.text}\n{server.log_tail()}"
    assert read.status_code == 200, f"{read.text}\n{server.log_tail()}"
    return read.json()["base_job_template"]


class TestCliDefaults:
    @pytest.mark.parametrize("pool_type", BUNDLED_TYPES)
    def test_default_templates_match_cli(
        self, prefect_server: PrefectServer, api: httpx.Client, pool_type: str
    ) -> None:
        name = f"cli-{pool_type}"
        stack = new_stack(prefect_server.api_url)
        pool = WorkPoolWithDefaults(stack, "pool", name=name, type=pool_type)
        expected = json.loads(synthesized_template(stack, pool))

        result = subprocess.run(
            [sys.executable, "-m", "prefect", "work-pool", "create", name]
            + ["--type", pool_type],
            check=False,
            env=prefect_server.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
        )
        response = api.get(f"/work_pools/{name}")

        # A type that a self-hosted server does not accept fails here, with
        # the CLI's message.
        assert result.returncode == 0, (
            f"prefect work-pool create --type {pool_type} failed:\n"
            f"{result.stdout}\n{result.stderr}\n{prefect_server.log_tail()}"
        )
        assert response.status_code == 200, response.text
        assert response.json()["type"] == pool_type
        assert response.json()["base_job_template"] == expected

    def test_cli_rejects_unknown_type(self, prefect_server: PrefectServer) -> None:
        # Shows that the CLI checks --type, so the test above passing means
        # the server's metadata lists each type.
        result = subprocess.run(
            [sys.executable, "-m", "prefect", "work-pool", "create", "cli-unknown"]
            + ["--type", "no-such-type"],
            check=False,
            env=prefect_server.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
        )

        assert result.returncode == 1
        assert "Unknown work pool type 'no-such-type'" in result.stdout


class TestOverrides:
    def test_docker_overrides_accepted(
        self, prefect_server: PrefectServer, api: httpx.Client
    ) -> None:
        stack = new_stack(prefect_server.api_url)
        pool = WorkPoolWithDefaults(
            stack,
            "docker",
            name="tf-docker",
            type="docker",
            job_variables={
                "image": "registry.example/flows:1.4",
                "env": {"LOG_LEVEL": "DEBUG"},
            },
        )
        raw = synthesized_template(stack, pool)

        stored = create_pool(api, prefect_server, "tf-docker", "docker", raw)

        properties = stored["variables"]["properties"]
        assert canonical(stored) == canonical(json.loads(raw))
        assert canonical(stored) == canonical(pool.base_job_template)
        assert properties["image"]["default"] == "registry.example/flows:1.4"
        assert properties["env"]["default"] == {"LOG_LEVEL": "DEBUG"}
        assert stored["job_configuration"]["env"] == "{{ env }}"
        assert stored["job_configuration"]["image"] == "{{ image }}"

    def test_kubernetes_overrides_accepted(
        self, prefect_server: PrefectServer, api: httpx.Client
    ) -> None:
        stack = new_stack(prefect_server.api_url)
        pool = WorkPoolWithDefaults(
            stack,
            "k8s",
            name="tf-k8s",
            type="kubernetes",
            job_variables={
                "namespace": "flows",
                "image": "registry.example/flows:1.4",
                "finished_job_ttl": 600,
            },
        )
        pool.add_job_variable(
            "ephemeral_storage_limit",
            schema={"type": "string"},
            default="2Gi",
            placeholder_path="job_manifest.spec.template.spec.containers.0"
            ".resources.limits.ephemeral-storage",
        )
        raw = synthesized_template(stack, pool)

        stored = create_pool(api, prefect_server, "tf-k8s", "kubernetes", raw)

        properties = stored["variables"]["properties"]
        manifest = stored["job_configuration"]["job_manifest"]
        container = manifest["spec"]["template"]["spec"]["containers"][0]
        assert canonical(stored) == canonical(json.loads(raw))
        assert properties["namespace"]["default"] == "flows"
        assert properties["image"]["default"] == "registry.example/flows:1.4"
        assert properties["finished_job_ttl"]["default"] == 600
        assert properties["ephemeral_storage_limit"] == {
            "type": "string",
            "default": "2Gi",
        }
        assert (
            container["resources"]["limits"]["ephemeral-storage"]
            == "{{ ephemeral_storage_limit }}"
        )
        assert container["resources"]["limits"]["memory"] == "{{ memory_limit }}"
        assert stored["job_configuration"]["env"] == "{{ env }}"
        assert container["env"] == "{{ env }}"

    def test_process_overrides_accepted(
        self, prefect_server: PrefectServer, api: httpx.Client
    ) -> None:
        stack = new_stack(prefect_server.api_url)
        pool = WorkPoolWithDefaults(
            stack,
            "local",
            name="tf-process",
            type="process",
            job_variables={"working_dir": "/srv/flows", "stream_output": False},
        )
        raw = synthesized_template(stack, pool)

        stored = create_pool(api, prefect_server, "tf-process", "process", raw)

        properties = stored["variables"]["properties"]
        assert canonical(stored) == canonical(json.loads(raw))
        assert properties["working_dir"]["default"] == "/srv/flows"
        assert properties["stream_output"]["default"] is False
        assert stored["job_configuration"]["env"] == "{{ env }}"
        assert stored["job_configuration"]["working_dir"] == "{{ working_dir }}"


class TestWorkerMetadataFromApi:
    def test_api_serves_bundled_types(self, prefect_server: PrefectServer) -> None:
        metadata = WorkerMetadata.from_api(prefect_server.api_url)

        assert metadata.types == BUNDLED_TYPES
        assert len(metadata.types) == 8
        assert metadata.source == f"api:{prefect_server.api_url}"

    def test_api_kubernetes_matches_bundled(
        self, prefect_server: PrefectServer
    ) -> None:
        metadata = WorkerMetadata.from_api(prefect_server.api_url)

        template = metadata.template("kubernetes")

        assert template == WorkerMetadata.bundled().template("kubernetes")
        assert (
            template
            == (
                bundled_aggregate()["prefect-kubernetes"]["kubernetes"][
                    "default_base_job_configuration"
                ]
            )
        )

    def test_api_process_differs_from_cli(self, prefect_server: PrefectServer) -> None:
        # The server serves the aggregate file bundled with `prefect`, whose
        # process template declares command, name and working_dir as plain
        # strings. `prefect work-pool create --type process` instead uses
        # ProcessWorker.get_default_base_job_template(), generated from the
        # worker's pydantic model, where those three are `anyOf` string or
        # null with `"default": null`. The bundled snapshot follows the CLI,
        # so the two sources differ only in those variable schemas.
        from_api = WorkerMetadata.from_api(prefect_server.api_url).template("process")
        bundled = WorkerMetadata.bundled().template("process")
        aggregate = bundled_aggregate()["prefect"]["process"]
        api_properties = from_api["variables"]["properties"]
        bundled_properties = bundled["variables"]["properties"]

        assert from_api == aggregate["default_base_job_configuration"]
        assert bundled == ProcessWorker.get_default_base_job_template()
        assert from_api != bundled
        assert from_api["job_configuration"] == bundled["job_configuration"]
        assert set(api_properties) == set(bundled_properties)
        assert api_properties["working_dir"]["type"] == "string"
        assert "default" not in api_properties["working_dir"]
        assert bundled_properties["working_dir"]["default"] is None

    def test_from_api_unreachable_names_url(self, closed_port: int) -> None:
        url = f"http://127.0.0.1:{closed_port}/api"

        with pytest.raises(WorkerMetadataError) as raised:
            WorkerMetadata.from_api(url, timeout_seconds=2)

        assert url in str(raised.value)
        assert "unreachable" in str(raised.value)


class TestBasicAuth:
    def test_from_api_with_basic_auth(self, basic_auth_server: PrefectServer) -> None:
        key = basic_auth_server.env["PREFECT_SERVER_API_AUTH_STRING"]

        metadata = WorkerMetadata.from_api(
            basic_auth_server.api_url, basic_auth_key=key
        )

        assert metadata.types == BUNDLED_TYPES

    def test_from_api_wrong_key_is_401(self, basic_auth_server: PrefectServer) -> None:
        with pytest.raises(WorkerMetadataError) as raised:
            WorkerMetadata.from_api(
                basic_auth_server.api_url, basic_auth_key="admin:wrong-pass"
            )

        assert "401" in str(raised.value)
        assert basic_auth_server.api_url in str(raised.value)

    def test_from_api_without_key_is_401(
        self, basic_auth_server: PrefectServer
    ) -> None:
        with pytest.raises(WorkerMetadataError) as raised:
            WorkerMetadata.from_api(basic_auth_server.api_url)

        assert "401" in str(raised.value)

    def test_synth_omits_basic_auth_key(
        self, basic_auth_server: PrefectServer, tmp_path: pathlib.Path
    ) -> None:
        key = basic_auth_server.env["PREFECT_SERVER_API_AUTH_STRING"]
        environ = {
            "PREFECT_API_URL": basic_auth_server.api_url,
            "PREFECT_BASIC_AUTH_KEY": key,
        }
        stack = cdktf.TerraformStack(cdktf.Testing.app(outdir=str(tmp_path)), "test")
        PrefectProvider(stack, "prefect", environ=environ)
        WorkPoolWithDefaults(stack, "etl", name="etl", type="process")

        synthesized = cdktf.Testing.synth(stack)
        out_dir = pathlib.Path(cdktf.Testing.full_synth(stack))
        written = [path for path in out_dir.rglob("*") if path.is_file()]
        provider = json.loads(synthesized)["provider"]["prefect"][0]

        assert provider["endpoint"] == basic_auth_server.api_url
        assert "basic_auth_key" not in provider
        assert "secret-pass" not in synthesized
        assert written
        for path in written:
            assert "secret-pass" not in path.read_text(errors="replace"), path
