"""End-to-end tests of synthesized templates against a real Prefect server.

The Terraform provider cannot be installed here, so these tests stand in for
`terraform apply`. They create pools with the real `prefect` CLI, or post the
synthesized `base_job_template` to `POST /work_pools/`, which is what the
provider's client calls on create (internal/client/work_pools.go in
terraform-provider-prefect). Then they compare what the server stores. The
servers run on 127.0.0.1 (see `conftest.py`), and no test reaches another host.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import urllib.error
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
from constructs_prefect.worker_metadata import CLOUD_ONLY_TYPES
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


def run_prefect(server: PrefectServer, *arguments: str) -> subprocess.CompletedProcess:
    """Run the `prefect` CLI against `server` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "prefect", *arguments],
        check=False,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
    )


def http_error_cause(error: WorkerMetadataError) -> urllib.error.HTTPError:
    """Return the HTTPError that caused `error`, checking it was closed.

    An unclosed HTTPError keeps its socket open until garbage collection, and
    the ResourceWarning emitted then fails the session under
    `filterwarnings = ["error"]`.
    """
    cause = error.__cause__
    assert isinstance(cause, urllib.error.HTTPError), repr(cause)
    assert cause.closed
    return cause


@pytest.fixture(autouse=True)
def closed_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # `WorkerMetadata.from_api` sends requests to loopback servers directly,
    # so a proxy in the environment must not change any result here. Any
    # other request would fail at once against this closed loopback port.
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)


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


class TestServerFixture:
    def test_database_in_prefect_home(self, prefect_server: PrefectServer) -> None:
        response = httpx.get(f"{prefect_server.api_url}/health", trust_env=False)

        assert response.status_code == 200
        assert (prefect_server.home / "prefect.db").is_file()
        assert prefect_server.env["PREFECT_HOME"] == str(prefect_server.home)


class TestCliDefaults:
    @pytest.mark.parametrize("pool_type", BUNDLED_TYPES)
    def test_default_templates_match_cli(
        self, prefect_server: PrefectServer, api: httpx.Client, pool_type: str
    ) -> None:
        name = f"cli-{pool_type}"
        stack = new_stack(prefect_server.api_url)
        pool = WorkPoolWithDefaults(stack, "pool", name=name, type=pool_type)
        expected = json.loads(synthesized_template(stack, pool))

        result = run_prefect(
            prefect_server, "work-pool", "create", name, "--type", pool_type
        )
        response = api.get(f"/work_pools/{name}")

        # A type that a self-hosted server does not list fails here, with the
        # CLI's message.
        assert result.returncode == 0, (
            f"prefect work-pool create --type {pool_type} failed:\n"
            f"{result.stdout}\n{result.stderr}\n{prefect_server.log_tail()}"
        )
        assert response.status_code == 200, response.text
        assert response.json()["type"] == pool_type
        assert response.json()["base_job_template"] == expected

    @pytest.mark.parametrize("pool_type", ["no-such-type", *sorted(CLOUD_ONLY_TYPES)])
    def test_cli_rejects_unlisted_type(
        self, prefect_server: PrefectServer, pool_type: str
    ) -> None:
        # The CLI checks --type against the server's worker metadata, so the
        # test above passing means the server lists that type. A self-hosted
        # server lists none of the types that only Prefect Cloud serves.
        name = f"cli-unlisted-{pool_type.replace(':', '-')}"

        result = run_prefect(
            prefect_server, "work-pool", "create", name, "--type", pool_type
        )

        assert result.returncode == 1
        assert f"Unknown work pool type {pool_type!r}" in result.stdout + result.stderr


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
        aggregate = bundled_aggregate()["prefect-kubernetes"]["kubernetes"]

        template = metadata.template("kubernetes")

        assert template == WorkerMetadata.bundled().template("kubernetes")
        assert template == aggregate["default_base_job_configuration"]

    def test_api_process_differs_from_cli(self, prefect_server: PrefectServer) -> None:
        # The server serves the aggregate file bundled with `prefect`. Its
        # process template types command, name, working_dir and the values of
        # env as plain strings. `prefect work-pool create --type process`
        # instead uses ProcessWorker.get_default_base_job_template(), built
        # from the worker's pydantic models, where each of these is `anyOf`
        # string or null, and command, name and working_dir default to null.
        # The bundled snapshot follows the CLI (Prefect 3.9.1).
        from_api = WorkerMetadata.from_api(prefect_server.api_url).template("process")
        bundled = WorkerMetadata.bundled().template("process")
        aggregate = bundled_aggregate()["prefect"]["process"]
        api_properties = from_api["variables"]["properties"]
        bundled_properties = bundled["variables"]["properties"]
        differing = {
            name
            for name in api_properties
            if api_properties[name] != bundled_properties.get(name)
        }

        assert from_api == aggregate["default_base_job_configuration"]
        assert bundled == ProcessWorker.get_default_base_job_template()
        assert from_api["job_configuration"] == bundled["job_configuration"]
        assert set(api_properties) == set(bundled_properties)
        assert differing == {"command", "env", "name", "working_dir"}
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

        cause = http_error_cause(raised.value)
        assert "401" in str(raised.value)
        assert basic_auth_server.api_url in str(raised.value)
        assert cause.code == 401

    def test_from_api_without_key_is_401(
        self, basic_auth_server: PrefectServer
    ) -> None:
        with pytest.raises(WorkerMetadataError) as raised:
            WorkerMetadata.from_api(basic_auth_server.api_url)

        cause = http_error_cause(raised.value)
        assert "401" in str(raised.value)
        assert cause.code == 401

    def test_synth_omits_basic_auth_key(
        self, basic_auth_server: PrefectServer, tmp_path: pathlib.Path
    ) -> None:
        key = basic_auth_server.env["PREFECT_SERVER_API_AUTH_STRING"]
        password = key.partition(":")[2]
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
        assert password == "secret-pass"
        assert password not in synthesized
        assert written
        for path in written:
            assert password not in path.read_text(errors="replace"), path
