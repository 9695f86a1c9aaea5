"""Sources of the default base job template of each work pool type."""

from __future__ import annotations

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

from ._templates import check_template_shape, copy_json, to_plain

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
        self.source = source
        self._templates = None
        if templates is not None:
            self._templates = {
                pool_type: _checked_template(pool_type, template, source)
                for pool_type, template in templates.items()
            }
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
            WorkerMetadataError: An argument is invalid, or the API is
                unreachable, timed out, returned an HTTP error, or returned
                something other than valid worker metadata.
        """
        _check_api_arguments(api_url, timeout_seconds, api_key, basic_auth_key)
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
            # The error keeps the response open, so close it before raising.
            error.close()
            raise WorkerMetadataError(
                f"GET {url} failed with HTTP {error.code} {error.reason}. "
                "Check the API URL and credentials, or use "
                "WorkerMetadata.bundled()."
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise WorkerMetadataError(
                f"Prefect API at {api_url!r} is unreachable: {reason}. "
                f"Start the server or fix the URL (timeout {timeout_seconds}s), "
                "or use WorkerMetadata.bundled()."
            ) from error
        try:
            aggregate = json.loads(body)
        except (ValueError, RecursionError) as error:
            raise WorkerMetadataError(
                f"GET {url} returned a body that is not JSON."
            ) from error
        return cls.from_dict(aggregate, source=f"api:{api_url}")

    @classmethod
    def from_file(cls, path: str | pathlib.Path) -> WorkerMetadata:
        """Load metadata from a JSON file in any shape `from_dict` takes."""
        if (
            not isinstance(path, (str, pathlib.PurePath))
            or not str(path)
            or "\x00" in str(path)
        ):
            raise WorkerMetadataError(
                f"Worker metadata file path must be a non-empty string or path, "
                f"got {path!r}."
            )
        path = pathlib.Path(path)
        try:
            data = json.loads(path.read_text())
        except RecursionError as error:
            raise WorkerMetadataError(
                f"Worker metadata file {str(path)!r} is nested too deeply to read."
            ) from error
        except FileNotFoundError as error:
            raise WorkerMetadataError(
                f"Worker metadata file {str(path)!r} does not exist."
            ) from error
        except OSError as error:
            raise WorkerMetadataError(
                f"Worker metadata file {str(path)!r} cannot be read: "
                f"{error.strerror or error}."
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
            entries = data["worker_types"]
            if not isinstance(entries, Mapping) or not all(
                isinstance(entry, Mapping) and "base_job_template" in entry
                for entry in entries.values()
            ):
                raise WorkerMetadataError(
                    f"Worker metadata from {source}: worker_types must map each "
                    "type to an object with a base_job_template."
                )
            templates = {
                pool_type: entry["base_job_template"]
                for pool_type, entry in entries.items()
            }
            return cls(
                templates, source=source, prefect_version=data.get("prefect_version")
            )
        if not data:
            raise WorkerMetadataError(
                f"Worker metadata from {source} has no work pool types."
            )
        if data and all(_looks_like_collection(value) for value in data.values()):
            return cls(_aggregate_templates(data, source), source=source)
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

        NOTE: the lookup compares Python objects, so `scope` must be a
        construct created in Python, such as a stack. `cdktf.Testing.app()`
        creates its app in JavaScript, and registering that app has no effect;
        register the stack instead.
        """
        if not isinstance(scope, Construct):
            raise WorkerMetadataError(
                "WorkerMetadata.use_for takes a construct such as a stack as its "
                f"scope, got {scope!r}."
            )
        if not isinstance(metadata, WorkerMetadata):
            raise WorkerMetadataError(
                "WorkerMetadata.use_for takes a WorkerMetadata such as "
                f"WorkerMetadata.bundled(), got {metadata!r}."
            )
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
        if kind == "dict":
            return "the worker metadata passed to WorkerMetadata.from_dict"
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
        return copy_json(self._templates[pool_type])

    def __repr__(self) -> str:
        version = f", prefect_version={self.prefect_version!r}"
        return f"WorkerMetadata(source={self.source!r}{version if self.prefect_version else ''})"


def _check_api_arguments(
    api_url: Any, timeout_seconds: Any, api_key: Any, basic_auth_key: Any
) -> None:
    problems = []
    try:
        parsed = urllib.parse.urlsplit(api_url) if isinstance(api_url, str) else None
    except ValueError:
        parsed = None
    if isinstance(api_url, str) and (
        not api_url.isascii() or any(c.isspace() or ord(c) < 32 for c in api_url)
    ):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        problems.append(
            f"api_url must be an http or https URL such as "
            f"'http://127.0.0.1:4200/api', got {api_url!r}."
        )
    elif parsed.username is not None or parsed.password is not None:
        problems.append(
            "api_url must not contain credentials, because they would show in "
            "messages and logs. Pass basic_auth_key='user:password' instead."
        )
    if (
        isinstance(timeout_seconds, bool)
        or not isinstance(timeout_seconds, (int, float))
        or not timeout_seconds > 0
        or timeout_seconds == float("inf")
    ):
        problems.append(
            f"timeout_seconds must be a positive number of seconds, got "
            f"{timeout_seconds!r}."
        )
    for name, value in (("api_key", api_key), ("basic_auth_key", basic_auth_key)):
        if value is None:
            continue
        if (
            not isinstance(value, str)
            or not value.isascii()
            or any(ord(c) < 32 or c == "\x7f" for c in value)
        ):
            problems.append(
                f"{name} must be a string of printable ASCII characters; the "
                "value given is not, and it is not shown because it is a secret."
            )
    if problems:
        raise WorkerMetadataError(" ".join(problems))


def _checked_template(pool_type: Any, template: Any, source: str) -> dict[str, Any]:
    """Return a private JSON copy of `template`, or raise if Prefect would reject it."""
    if not isinstance(pool_type, str) or not pool_type:
        raise WorkerMetadataError(
            f"Worker metadata from {source}: work pool types must be non-empty "
            f"strings, got {pool_type!r}."
        )
    problems = check_template_shape(template, label="it")
    if problems:
        raise WorkerMetadataError(
            f"Worker metadata from {source}: the template of type {pool_type!r} "
            f"is invalid: {' '.join(problems)}"
        )
    return json.loads(json.dumps(to_plain(template)))


def _looks_like_collection(value: Any) -> bool:
    """Return whether `value` is a collection of the aggregate worker metadata."""
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(
            isinstance(worker, Mapping) and "type" in worker
            for worker in value.values()
        )
    )


def _aggregate_templates(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    templates = {}
    for collection, workers in data.items():
        for worker_name, worker in workers.items():
            if "default_base_job_configuration" not in worker:
                raise WorkerMetadataError(
                    f"Worker metadata from {source}: worker {worker_name!r} of "
                    f"{collection!r} has no default_base_job_configuration."
                )
            pool_type = worker["type"]
            if not isinstance(pool_type, str) or not pool_type:
                raise WorkerMetadataError(
                    f"Worker metadata from {source}: worker {worker_name!r} of "
                    f"{collection!r} has the type {pool_type!r}, which is not a "
                    "non-empty string."
                )
            templates[pool_type] = worker["default_base_job_configuration"]
    return templates


@functools.cache
def _bundled() -> WorkerMetadata:
    text = (
        resources.files(__package__).joinpath("data/worker_metadata.json").read_text()
    )
    return WorkerMetadata.from_dict(json.loads(text), source="bundled")


_SCOPED_SOURCES: weakref.WeakKeyDictionary[Construct, WorkerMetadata] = (
    weakref.WeakKeyDictionary()
)
