"""Sources of the default base job template of each work pool type."""

from __future__ import annotations

import copy
import functools
import json
import pathlib
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Mapping
from importlib import resources
from typing import Any

from constructs import Construct

# Work pool types that only Prefect Cloud serves: a self-hosted server's
# bundled metadata (Prefect 3.9) has none of them.
CLOUD_ONLY_TYPES = frozenset(
    {
        "azure-container-instance:push",
        "cloud-run:push",
        "cloud-run-v2:push",
        "ecs:push",
        "modal:push",
        "prefect:managed",
    }
)

# Attribute of `prefect_worker_metadata.base_job_configs` that contains each
# type's template, as mapped in the provider's worker_metadata data source
# (terraform-provider-prefect v3.4.1). Not a plain character substitution:
# `azure-container-instance` becomes the plural `azure_container_instances`.
TERRAFORM_ATTRIBUTE_BY_TYPE = {
    "azure-container-instance": "azure_container_instances",
    "azure-container-instance:push": "azure_container_instances_push",
    "cloud-run": "cloud_run",
    "cloud-run-v2": "cloud_run_v2",
    "cloud-run-v2:push": "cloud_run_v2_push",
    "cloud-run:push": "cloud_run_push",
    "docker": "docker",
    "ecs": "ecs",
    "ecs:push": "ecs_push",
    "kubernetes": "kubernetes",
    "modal:push": "modal_push",
    "prefect-agent": "prefect_agent",
    "prefect:managed": "prefect_managed",
    "process": "process",
    "vertex-ai": "vertex_ai",
}

_AGGREGATE_PATH = "/collections/views/aggregate-worker-metadata"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WorkerMetadataError(ValueError):
    """Worker metadata could not be loaded or has an unexpected shape."""


class WorkerMetadata:
    """Default base job templates of work pool types, from one source.

    Create one with a class method, then pass it as `worker_metadata` to
    `WorkPoolWithDefaults`, or register it for every pool under a scope with
    `WorkerMetadata.use_for(stack, metadata)`.

    Example:
        metadata = WorkerMetadata.from_api("http://127.0.0.1:4200/api")
        WorkPoolWithDefaults(stack, "etl", name="etl", type="docker",
                             worker_metadata=metadata)
    """

    def __init__(
        self,
        templates: Mapping[str, Mapping[str, Any]] | None,
        *,
        source: str,
        prefect_version: str | None = None,
    ) -> None:
        self._templates = dict(templates) if templates is not None else None
        # Set only for templates parsed by `json.loads` that nothing else
        # references (the bundled snapshot). They contain only dicts, lists and
        # immutable scalars, and no object twice, so `_copy_json` copies them
        # exactly as `deepcopy` would, in about a quarter of the time.
        self._parsed_json = False
        self.source = source
        self.prefect_version = prefect_version

    @classmethod
    def bundled(cls) -> WorkerMetadata:
        """Return the snapshot shipped in this package, the default source.

        It was written by `scripts/refresh_worker_metadata.py` from the
        Prefect release named by `prefect_version`.
        """
        return _bundled()

    @classmethod
    def from_api(
        cls,
        api_url: str,
        *,
        api_key: str | None = None,
        basic_auth_key: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> WorkerMetadata:
        """Fetch the aggregate worker metadata from a Prefect API at synth time.

        Args:
            api_url: The API URL, as in `PREFECT_API_URL`
                (`http://127.0.0.1:4200/api`, or a Prefect Cloud workspace URL).
            api_key: Prefect Cloud API key, sent as a bearer token. If omitted,
                no Authorization header is sent.
            basic_auth_key: `user:password` for a server started with
                `PREFECT_SERVER_API_AUTH_STRING`. Ignored when `api_key` is set.
            timeout_seconds: Limit for connecting and reading. Defaults to 10.

        Raises:
            WorkerMetadataError: The API is unreachable, timed out, returned
                an HTTP error, or returned something other than worker metadata.
        """
        url = api_url.rstrip("/") + _AGGREGATE_PATH
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if api_key:
            request.add_header("Authorization", f"Bearer {api_key}")
        elif basic_auth_key:
            import base64

            token = base64.b64encode(basic_auth_key.encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        # A proxy from the environment is for other hosts: requests to a
        # loopback server go to it directly.
        if urllib.parse.urlsplit(url).hostname in _LOOPBACK_HOSTS:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        else:
            opener = urllib.request.build_opener()
        try:
            with opener.open(request, timeout=timeout_seconds) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            # The error holds the open response; close it before raising.
            error.close()
            raise WorkerMetadataError(
                f"GET {url} failed with HTTP {error.code} {error.reason}. "
                "Check the API URL and credentials, or use "
                "WorkerMetadata.bundled()."
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise WorkerMetadataError(
                f"Prefect API at {api_url!r} is unreachable: {reason}. "
                f"Start the server or fix the URL (timeout {timeout_seconds}s), "
                "or use WorkerMetadata.bundled()."
            ) from error
        try:
            aggregate = json.loads(body)
        except ValueError as error:
            raise WorkerMetadataError(
                f"GET {url} returned a body that is not JSON."
            ) from error
        return cls.from_dict(aggregate, source=f"api:{api_url}")

    @classmethod
    def from_file(cls, path: str | pathlib.Path) -> WorkerMetadata:
        """Load metadata from a JSON file in any shape `from_dict` takes."""
        path = pathlib.Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise WorkerMetadataError(
                f"Worker metadata file {str(path)!r} does not exist."
            ) from error
        except ValueError as error:
            raise WorkerMetadataError(
                f"Worker metadata file {str(path)!r} is not valid JSON: {error}."
            ) from error
        return cls.from_dict(data, source=f"file:{path}")

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "dict"
    ) -> WorkerMetadata:
        """Build metadata from a mapping in one of three shapes.

        - `{type: base_job_template}`;
        - the aggregate worker metadata a Prefect API serves,
          `{collection: {worker: {"type": ..., "default_base_job_configuration": ...}}}`;
        - this package's snapshot, `{"worker_types": {type: {"base_job_template": ...}}}`.
        """
        if not isinstance(data, Mapping):
            raise WorkerMetadataError(
                f"Worker metadata from {source} must be a JSON object, "
                f"got {type(data).__name__}."
            )
        if "worker_types" in data:
            templates = {
                pool_type: entry["base_job_template"]
                for pool_type, entry in data["worker_types"].items()
            }
            return cls(
                templates, source=source, prefect_version=data.get("prefect_version")
            )
        if data and all(_is_aggregate_collection(value) for value in data.values()):
            templates = {
                worker["type"]: worker["default_base_job_configuration"]
                for workers in data.values()
                for worker in workers.values()
            }
            return cls(templates, source=source)
        for pool_type, template in data.items():
            if not isinstance(template, Mapping):
                raise WorkerMetadataError(
                    f"Worker metadata from {source}: the template of type "
                    f"{pool_type!r} must be a JSON object, "
                    f"got {type(template).__name__}."
                )
        return cls(data, source=source)

    @classmethod
    def from_terraform(cls) -> WorkerMetadata:
        """Read the template when Terraform runs, from `prefect_worker_metadata`.

        The pool then gets the default that the target server serves at plan
        time. Overrides are applied with Terraform's `merge` and `jsondecode`
        functions, so they are not validated against the schema at synth time.
        """
        return cls(None, source="terraform")

    @staticmethod
    def use_for(scope: Construct, metadata: WorkerMetadata) -> None:
        """Make `metadata` the source of every pool declared under `scope`.

        A `worker_metadata` argument on a pool still takes precedence.
        """
        _SCOPED_SOURCES[scope] = metadata

    @staticmethod
    def for_construct(construct: Construct) -> WorkerMetadata:
        """Return the source registered for the nearest enclosing scope."""
        # Listing the scopes is a jsii call, so skip it when none is registered.
        if not _SCOPED_SOURCES:
            return _bundled()
        for scope in reversed(construct.node.scopes):
            metadata = _SCOPED_SOURCES.get(scope)
            if metadata is not None:
                return metadata
        return _bundled()

    @property
    def description(self) -> str:
        """The source in words, for error messages."""
        kind, _, location = self.source.partition(":")
        if kind == "bundled":
            return f"the snapshot bundled with constructs-prefect (Prefect {self.prefect_version})"
        if kind == "api":
            return f"the Prefect API at {location}"
        if kind == "file":
            return f"the file {location}"
        if kind == "terraform":
            return "the prefect_worker_metadata data source"
        return self.source

    @property
    def at_terraform_time(self) -> bool:
        """Whether templates are read by Terraform instead of at synth time."""
        return self._templates is None

    @property
    def types(self) -> tuple[str, ...]:
        """Sorted work pool types this source has a template for."""
        if self._templates is None:
            return tuple(sorted(TERRAFORM_ATTRIBUTE_BY_TYPE))
        return tuple(sorted(self._templates))

    def template(self, pool_type: str) -> dict[str, Any]:
        """Return a copy of the default base job template of `pool_type`.

        Raises:
            KeyError: This source has no template for `pool_type`.
        """
        if self._templates is None:
            raise KeyError(pool_type)
        template = self._templates[pool_type]
        if self._parsed_json:
            return _copy_json(template)
        return copy.deepcopy(template)

    def __repr__(self) -> str:
        version = f", prefect_version={self.prefect_version!r}"
        return f"WorkerMetadata(source={self.source!r}{version if self.prefect_version else ''})"


def _copy_json(value: Any) -> Any:
    """Copy the dicts and lists in `value`, sharing its immutable scalars."""
    if type(value) is dict:
        return {key: _copy_json(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy_json(item) for item in value]
    return value


def _is_aggregate_collection(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(
            isinstance(worker, Mapping)
            and "type" in worker
            and "default_base_job_configuration" in worker
            for worker in value.values()
        )
    )


@functools.cache
def _bundled() -> WorkerMetadata:
    text = resources.files(__package__).joinpath("data/worker_metadata.json").read_text()
    metadata = WorkerMetadata.from_dict(json.loads(text), source="bundled")
    metadata._parsed_json = True
    return metadata


_SCOPED_SOURCES: weakref.WeakKeyDictionary[Construct, WorkerMetadata] = (
    weakref.WeakKeyDictionary()
)
