"""The `WorkPoolWithDefaults` construct."""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import Annotations, Fn, TerraformProvider, TerraformStack
from constructs import Construct

from . import _templates
from ._errors import ConfigurationError
from ._resources import WorkerMetadataBlock, WorkPoolBlock
from .provider import ProviderSettings, stack_provider_settings
from .worker_metadata import (
    CLOUD_ONLY_TYPES,
    TERRAFORM_ATTRIBUTE_BY_TYPE,
    WorkerMetadata,
)

_KIND = "WorkPoolWithDefaults"
# Characters the Prefect server rejects in names (prefect.types.names, 3.9).
_BANNED_NAME_CHARACTERS = "/%&><"
_TERRAFORM_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_UNSET: Any = object()


class _StackPools:
    """Pools declared in one stack, to keep names and addresses unique."""

    def __init__(self) -> None:
        self.pools: list[WorkPoolWithDefaults] = []
        # Pools rather than their paths, because reading a path is a jsii
        # call and only an error message needs it.
        self.pool_by_address: dict[str, WorkPoolWithDefaults] = {}
        self.pool_by_name: dict[tuple[str | None, str], WorkPoolWithDefaults] = {}
        self.metadata_blocks: dict[str | None, WorkerMetadataBlock] = {}


_POOLS_BY_STACK: weakref.WeakKeyDictionary[TerraformStack, _StackPools] = (
    weakref.WeakKeyDictionary()
)


def terraform_name(construct_id: str) -> str:
    """Derive the Terraform resource name of a pool from its construct ID.

    CamelCase becomes snake_case, runs of characters Terraform does not allow in
    a name become one underscore, and a name that would start with a digit gets
    a `pool_` prefix: `EtlPool` -> `etl_pool`, `k8s.gpu pool` -> `k8s_gpu_pool`,
    `2024` -> `pool_2024`.
    """
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", construct_id).lower()
    snake = re.sub(r"[^a-z0-9_-]+", "_", snake).strip("_")
    if not snake or not _TERRAFORM_NAME_PATTERN.match(snake):
        snake = f"pool_{snake}"
    return snake


class WorkPoolWithDefaults(Construct):
    """A Prefect work pool whose base job template starts from its type's default.

    The template is the default of the worker type, with
    `job_variables` set as defaults of the variables schema and
    `job_configuration` deep-merged into the job configuration. Every change is
    validated while the construct is created, and the template is rendered as
    canonical JSON, so a second `terraform plan` shows no changes.

    With the bundled worker metadata (the default source) the starting point
    is exactly the template that `prefect work-pool create --type <type>`
    stores on a self-hosted server. A live API's `process` template differs
    slightly, because the CLI uses the installed `ProcessWorker` class while
    the API serves the aggregate metadata.

    The pool is a `prefect_work_pool` resource at the Terraform address
    `prefect_work_pool.<terraform_name(id)>` (see `address`), reachable as
    `self.resource` and `node.default_child`.
    Provider docs: https://registry.terraform.io/providers/PrefectHQ/prefect/3.4.1/docs/resources/work_pool

    Example:
        WorkPoolWithDefaults(
            stack, "k8s", name="k8s", type="kubernetes",
            job_variables={"namespace": "flows", "image": "org/flows:1.0"},
        )

    Args:
        scope: Parent construct, usually the stack.
        id: Construct ID. It fixes the Terraform address, so renaming it
            replaces the pool.
        name: Work pool name, unique in the workspace. Changing it replaces
            the pool.
        type: Work pool type, such as `process`, `docker` or `kubernetes`.
            Changing it replaces the pool.
        job_variables: Defaults for variables of the template's schema, by
            variable name. If omitted, the type's defaults stay.
        job_configuration: Object deep-merged into `job_configuration`: objects
            merge, any other value replaces. If omitted, it stays as is.
        base_job_template: A complete template (object or JSON string) used
            instead of the type's default. If omitted, the default of `type`
            from `worker_metadata` is used.
        worker_metadata: Source of default templates. If omitted, the source
            set with `WorkerMetadata.use_for` on an enclosing scope is used,
            else the snapshot bundled with this package.
        description: Work pool description. If omitted, none is set.
        paused: Whether the pool is paused. If omitted, the provider's default
            (`False`) applies.
        concurrency_limit: Maximum concurrent flow runs, 0 or greater. If
            omitted, the pool has no limit.
        workspace_id: Prefect Cloud workspace. If omitted, the provider's is
            used. Not allowed with a self-hosted server.
        account_id: Prefect Cloud account. If omitted, the provider's is used.
        adopt: Emit a Terraform `import` block so `apply` adopts an existing
            pool with this name instead of creating one. Defaults to `False`.
        provider: Provider instance for this pool. If omitted, the stack's
            default `prefect` provider is used.

    Raises:
        ConfigurationError: Any argument is invalid; the message lists every
            problem with its value and fix.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        type: str,
        job_variables: Mapping[str, Any] | None = None,
        job_configuration: Mapping[str, Any] | None = None,
        base_job_template: Mapping[str, Any] | str | None = None,
        worker_metadata: WorkerMetadata | None = None,
        description: str | None = None,
        paused: bool | None = None,
        concurrency_limit: int | None = None,
        workspace_id: str | None = None,
        account_id: str | None = None,
        adopt: bool = False,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.pool_name = name
        self.pool_type = type
        self.workspace_id = workspace_id
        self._terraform_name = terraform_name(_node_id(self, id))
        self._metadata = worker_metadata or WorkerMetadata.for_construct(self)
        self._job_variables: dict[str, Any] = {}
        self._reported_unused: set[str] = set()
        stack = _stack_of(self, scope)
        self._stack_pools = _POOLS_BY_STACK.setdefault(stack, _StackPools())

        problems = _check_arguments(name, type, description, paused, concurrency_limit)
        problems += self._check_unique(name, workspace_id)
        settings = stack_provider_settings(stack)
        if settings is not None:
            problems += _check_workspace(workspace_id, settings)
        self._fail_if(problems)

        self._template = self._initial_template(type, base_job_template)
        if job_configuration is not None:
            self.patch_job_configuration(job_configuration)
        if job_variables is not None:
            self.set_job_variables(job_variables)

        self.resource = WorkPoolBlock(
            self,
            "Resource",
            name=name,
            type=type,
            base_job_template=self._render(),
            description=description,
            paused=paused,
            concurrency_limit=concurrency_limit,
            workspace_id=workspace_id,
            account_id=account_id,
            provider=provider,
        )
        self.resource.override_logical_id(self._terraform_name)
        if adopt:
            import_id = name if workspace_id is None else f"{name},{workspace_id}"
            self.resource.import_from(import_id, provider)
        self._stack_pools.pools.append(self)
        self._report_unused_variables()

    # Public edits: each validates, then re-renders the resource's template.

    def set_job_variables(self, job_variables: Mapping[str, Any]) -> None:
        """Set defaults of variables in the template's schema.

        Each name must be declared in `variables.properties`. Each value must
        validate against that property's JSON schema, unless it is a Terraform
        token, because a token's value is only known at plan time.

        Raises:
            ConfigurationError: A name is undeclared or a value is invalid.
        """
        if not isinstance(job_variables, Mapping):
            self._fail_if(
                [
                    "job_variables must be a mapping of variable name to value, "
                    f"got {type(job_variables).__name__}."
                ]
            )
        if self._template is None:
            self._job_variables.update(job_variables)
        else:
            self._fail_if(self._apply_job_variables(job_variables))
        self._refresh()

    def patch_job_configuration(self, patch: Mapping[str, Any]) -> None:
        """Deep-merge `patch` into `job_configuration`.

        Raises:
            ConfigurationError: `patch` is not an object, the source reads the
                template at Terraform time, or the result uses a placeholder
                that no variable declares.
        """
        if not isinstance(patch, Mapping):
            self._fail_if(
                [
                    "job_configuration must be a mapping merged into the "
                    f"template's job_configuration, got {type(patch).__name__}."
                ]
            )
        self._fail_if_terraform_time("job_configuration")
        patched = dict(self._template)
        patched["job_configuration"] = _templates.deep_merge(
            self._template["job_configuration"], patch
        )
        self._fail_if(_templates.check_template_shape(patched))
        self._template = patched
        self._refresh()

    def add_job_variable(
        self,
        name: str,
        *,
        schema: Mapping[str, Any],
        placeholder_path: str | Sequence[str | int],
        default: Any = _UNSET,
        required: bool = False,
    ) -> None:
        """Declare a new job variable and use it in `job_configuration`.

        Example, an ephemeral storage limit on the Kubernetes job's container:

            pool.add_job_variable(
                "ephemeral_storage_limit",
                schema={"type": "string", "title": "Ephemeral storage limit"},
                default="2Gi",
                placeholder_path="job_manifest.spec.template.spec.containers.0"
                ".resources.limits.ephemeral-storage",
            )

        Args:
            name: Variable name, unused in the schema so far.
            schema: JSON schema of the variable's value.
            placeholder_path: Where `{{ name }}` goes in `job_configuration`, as
                dotted keys or a sequence; integers index lists. Missing
                objects on the way are created.
            default: Default value, validated against `schema`. If omitted,
                the variable has no default.
            required: Add the name to the schema's `required` list. Defaults
                to `False`.

        Raises:
            ConfigurationError: The name exists, the schema or default is
                invalid, or the path runs through a missing list item.
        """
        self._fail_if_terraform_time("add_job_variable")
        problems = []
        variables = self._template["variables"]
        properties = variables.setdefault("properties", {})
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w\-]*", name):
            problems.append(
                f"job variable name must be an identifier such as 'memory_limit', "
                f"got {name!r}."
            )
        elif name in properties:
            problems.append(
                f"job variable {name!r} is already declared. Use "
                f"job_variables={{{name!r}: ...}} to change its default."
            )
        if not isinstance(schema, Mapping):
            problems.append(f"schema of job variable {name!r} must be a mapping.")
        else:
            try:
                _templates.jsonschema.validators.validator_for(
                    dict(schema), default=_templates.jsonschema.Draft202012Validator
                ).check_schema(dict(schema))
            except _templates.jsonschema.SchemaError as error:
                problems.append(
                    f"schema of job variable {name!r} is not a valid JSON schema: "
                    f"{error.message}."
                )
        self._fail_if(problems)

        property_schema = dict(schema)
        if default is not _UNSET:
            self._fail_if(self._value_problems(name, default, property_schema))
            property_schema["default"] = default
        path = _templates.parse_path(placeholder_path)
        configuration = json.loads(json.dumps(self._template["job_configuration"]))
        try:
            _templates.set_at_path(configuration, path, "{{ " + name + " }}")
        except LookupError as error:
            self._fail_if(
                [
                    f"placeholder_path {placeholder_path!r} does not exist in "
                    f"job_configuration: nothing at {str(error)!r}. Check the "
                    "template with `prefect work-pool get-default-base-job-template "
                    f"--type {self.pool_type}`."
                ]
            )
        properties[name] = property_schema
        if required:
            variables["required"] = sorted({*variables.get("required", []), name})
        self._template["job_configuration"] = configuration
        self._refresh()

    # Outputs.

    @property
    def address(self) -> str:
        """Terraform address, for `terraform import <address> <pool name>`."""
        return f"{WorkPoolBlock.TF_RESOURCE_TYPE}.{self._terraform_name}"

    @property
    def base_job_template(self) -> dict[str, Any] | None:
        """The rendered template, or `None` when read at Terraform time."""
        if self._template is None:
            return None
        return json.loads(_templates.canonical_json(self._template))

    @property
    def id(self) -> str:
        """Work pool ID (UUID), known after apply."""
        return self.resource.get_string_attribute("id")

    @property
    def default_queue_id(self) -> str:
        """ID (UUID) of the pool's default work queue, known after apply."""
        return self.resource.get_string_attribute("default_queue_id")

    @property
    def created(self) -> str:
        """Creation timestamp (RFC 3339), known after apply."""
        return self.resource.get_string_attribute("created")

    @property
    def updated(self) -> str:
        """Last update timestamp (RFC 3339), known after apply."""
        return self.resource.get_string_attribute("updated")

    # Internals.

    def _fail_if(self, problems: list[str]) -> None:
        if problems:
            raise ConfigurationError(_KIND, self.node.path, problems)

    def _fail_if_terraform_time(self, argument: str) -> None:
        if self._template is None:
            self._fail_if(
                [
                    f"{argument} cannot be applied when the template is read at "
                    "Terraform time (WorkerMetadata.from_terraform()), because the "
                    "template is unknown at synth time. Only job_variables are "
                    "supported there; use WorkerMetadata.bundled() or "
                    "WorkerMetadata.from_api(...) for deeper edits."
                ]
            )

    def _check_unique(self, name: str, workspace_id: str | None) -> list[str]:
        problems = []
        address = self.address
        other = self._stack_pools.pool_by_address.get(address)
        if other is not None:
            problems.append(
                f"Terraform address {address} is already used by "
                f"{other.node.path!r}. Give one of the two constructs another id."
            )
        other = self._stack_pools.pool_by_name.get((workspace_id, name))
        if other is not None:
            problems.append(
                f"name {name!r} is already used by work pool {other.node.path!r} in "
                "this stack, and Prefect keeps one pool per name. Choose another name."
            )
        if not problems:
            self._stack_pools.pool_by_address[address] = self
            self._stack_pools.pool_by_name[(workspace_id, name)] = self
        return problems

    def _initial_template(
        self, pool_type: str, base_job_template: Mapping[str, Any] | str | None
    ) -> dict[str, Any] | None:
        if base_job_template is not None:
            return self._user_template(base_job_template)
        if _templates.contains_token(pool_type):
            self._fail_if(
                [
                    "type is a Terraform token, so its default template cannot be "
                    "chosen at synth time. Pass a literal type or a complete "
                    "base_job_template."
                ]
            )
        if self._metadata.at_terraform_time:
            if pool_type not in TERRAFORM_ATTRIBUTE_BY_TYPE:
                self._fail_if([self._unknown_type_message(pool_type)])
            return None
        try:
            return self._metadata.template(pool_type)
        except KeyError:
            self._fail_if([self._unknown_type_message(pool_type)])
        raise AssertionError("unreachable")

    def _user_template(self, template: Mapping[str, Any] | str) -> dict[str, Any]:
        if isinstance(template, str):
            try:
                template = json.loads(template)
            except ValueError as error:
                self._fail_if(
                    [f"base_job_template is a string but not valid JSON: {error}."]
                )
        self._fail_if(_templates.check_template_shape(template))
        return json.loads(json.dumps(template))

    def _unknown_type_message(self, pool_type: str) -> str:
        known = self._metadata.types
        message = (
            f"type {pool_type!r} has no default template in "
            f"{self._metadata.description}. Known types: {', '.join(known)}."
        )
        suggestions = _templates.closest(str(pool_type), known)
        if suggestions:
            message += f" Did you mean {suggestions[0]!r}?"
        if pool_type in CLOUD_ONLY_TYPES:
            message += (
                f" {pool_type!r} is served by Prefect Cloud only: use "
                "WorkerMetadata.from_api(<Cloud workspace URL>, api_key=...) or "
                "WorkerMetadata.from_terraform()."
            )
        return message + " Or pass a complete base_job_template."

    def _apply_job_variables(self, job_variables: Mapping[str, Any]) -> list[str]:
        variables = self._template["variables"]
        properties = variables.get("properties", {})
        problems = []
        for name, value in job_variables.items():
            if name not in properties:
                message = (
                    f"job_variables[{name!r}] is not a variable of this {self.pool_type!r} "
                    "pool's template."
                )
                suggestions = _templates.closest(str(name), list(properties))
                if suggestions:
                    message += f" Did you mean {', '.join(map(repr, suggestions))}?"
                message += f" Declared variables: {', '.join(sorted(properties))}."
                problems.append(message)
                continue
            problems += self._value_problems(name, value, properties[name])
        if problems:
            return problems
        for name, value in job_variables.items():
            properties[name] = {**properties[name], "default": value}
            self._job_variables[name] = value
        return []

    def _value_problems(
        self, name: str, value: Any, property_schema: Mapping[str, Any]
    ) -> list[str]:
        if _templates.contains_token(value) or _is_block_reference(value):
            return []
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return [
                f"job_variables[{name!r}] must be a JSON value, got {value!r} of "
                f"type {type(value).__name__}."
            ]
        errors = _templates.validate_value(
            value, property_schema, self._template["variables"]
        )
        return [
            f"job_variables[{name!r}] = {value!r} is invalid{error_text}."
            for error_text in (
                f" at {error}" if error.startswith("[") else f": {error}"
                for error in errors
            )
        ]

    def _refresh(self) -> None:
        resource = getattr(self, "resource", None)
        if resource is not None:
            resource.attributes["base_job_template"] = self._render()
            self._report_unused_variables()

    def _report_unused_variables(self) -> None:
        if self._template is None:
            return
        for variable in _templates.unused_variables(self._template):
            if variable in self._reported_unused:
                continue
            self._reported_unused.add(variable)
            Annotations.of(self).add_warning(
                f"[constructs_prefect:unused-variable] job variable "
                f"{variable!r} is declared but no placeholder in "
                "job_configuration uses it, so Prefect ignores it."
            )

    def _render(self) -> str:
        if self._template is None:
            return self._render_at_terraform_time()
        return _render_with_tokens(self._template)

    def _render_at_terraform_time(self) -> str:
        blocks = self._stack_pools.metadata_blocks
        block = blocks.get(self.workspace_id)
        if block is None:
            suffix = "" if self.workspace_id is None else f"_{len(blocks)}"
            block = WorkerMetadataBlock(
                TerraformStack.of(self),
                f"prefect_worker_metadata{suffix}",
                workspace_id=self.workspace_id,
            )
            blocks[self.workspace_id] = block
        source = block.base_job_config(TERRAFORM_ATTRIBUTE_BY_TYPE[self.pool_type])
        if not self._job_variables:
            return source
        template = Fn.jsondecode(source)
        variables = Fn.lookup(template, "variables")
        properties = Fn.lookup(variables, "properties")
        changed = {
            name: Fn.merge([Fn.lookup(properties, name), {"default": value}])
            for name, value in sorted(self._job_variables.items())
        }
        return Fn.jsonencode(
            Fn.merge(
                [
                    template,
                    {
                        "variables": Fn.merge(
                            [
                                variables,
                                {"properties": Fn.merge([properties, changed])},
                            ]
                        )
                    },
                ]
            )
        )


def _render_with_tokens(template: Mapping[str, Any]) -> str:
    """Render canonical JSON, with each token value JSON-encoded by Terraform.

    A token such as a variable's value cannot be serialized by Python, so it is
    replaced by a marker, the document is dumped and escaped, and each marker
    becomes `${jsonencode(<expression>)}`.
    """
    tokens: list[Any] = []

    def replace(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: replace(item) for key, item in value.items()}
        if isinstance(value, list):
            return [replace(item) for item in value]
        if _templates.contains_token(value):
            tokens.append(value)
            return f"\x00token{len(tokens) - 1}\x00"
        return value

    text = _templates.escape_terraform_template(
        _templates.canonical_json(replace(template) if _has_token(template) else template)
    )
    for index, value in enumerate(tokens):
        marker = json.dumps(f"\x00token{index}\x00")
        text = text.replace(marker, Fn.jsonencode(value))
    return text


def _node_id(construct: Construct, id: str) -> str:
    """Return `construct.node.id`, without a jsii call when possible.

    The constructs library (10.x) stores the ID with each `/` replaced by
    `--`, so an ID without `/` is stored as given.
    """
    if isinstance(id, str) and "/" not in id:
        return id
    return construct.node.id


def _stack_of(construct: Construct, scope: Construct) -> TerraformStack:
    """Return `TerraformStack.of(construct)`, without a jsii call when possible.

    When the parent `scope` is a stack, `TerraformStack.of` returns that same
    object, so the lookup through the jsii kernel is needed only for pools
    nested deeper.
    """
    if isinstance(scope, TerraformStack):
        return scope
    return TerraformStack.of(construct)


def _is_block_reference(value: Any) -> bool:
    """Return whether `value` is `{"$ref": {...}}`, a Prefect block reference."""
    return isinstance(value, Mapping) and list(value) == ["$ref"]


def _has_token(template: Mapping[str, Any]) -> bool:
    properties = template.get("variables", {}).get("properties", {})
    return any(
        _templates.contains_token(schema.get("default"))
        for schema in properties.values()
        if isinstance(schema, Mapping)
    )


def _check_arguments(
    name: Any,
    pool_type: Any,
    description: Any,
    paused: Any,
    concurrency_limit: Any,
) -> list[str]:
    problems = []
    if not isinstance(name, str):
        problems.append(f"name must be a string, got {name!r}.")
    elif not _templates.contains_token(name):
        if not name.strip("'\" "):
            problems.append("name must not be empty.")
        banned = sorted({c for c in name if c in _BANNED_NAME_CHARACTERS})
        if banned:
            problems.append(
                f"name {name!r} contains {', '.join(map(repr, banned))}, which "
                f"Prefect rejects in names. Remove the characters "
                f"{' '.join(_BANNED_NAME_CHARACTERS)}."
            )
        if name.lower().startswith("prefect"):
            problems.append(
                f"name {name!r} starts with 'prefect', which the Prefect server "
                "reserves for internal pools. Choose another name."
            )
    if not isinstance(pool_type, str) or not pool_type.strip():
        problems.append(
            f"type must be a non-empty string such as 'process', got {pool_type!r}."
        )
    if description is not None and not isinstance(description, str):
        problems.append(f"description must be a string, got {description!r}.")
    if paused is not None and not isinstance(paused, bool):
        problems.append(f"paused must be True or False, got {paused!r}.")
    if concurrency_limit is not None:
        if isinstance(concurrency_limit, bool) or not isinstance(
            concurrency_limit, (int, float)
        ):
            problems.append(
                f"concurrency_limit must be an integer, got {concurrency_limit!r}. "
                "Omit it for no limit."
            )
        elif not _templates.contains_token(concurrency_limit):
            if concurrency_limit != int(concurrency_limit):
                problems.append(
                    "concurrency_limit must be a whole number, got "
                    f"{concurrency_limit!r}."
                )
            elif concurrency_limit < 0:
                problems.append(
                    "concurrency_limit must be 0 or greater, got "
                    f"{concurrency_limit!r}. Omit it for no limit."
                )
    return problems


def _check_workspace(workspace_id: str | None, settings: ProviderSettings) -> list[str]:
    if settings.cloud is False and workspace_id is not None:
        return [
            f"workspace_id {workspace_id!r} is only for Prefect Cloud, but the "
            "stack's provider targets a self-hosted server. Remove workspace_id."
        ]
    if settings.cloud and workspace_id is None and settings.workspace_id is None:
        return [
            "no workspace is set: the provider targets Prefect Cloud without a "
            "workspace_id. Pass workspace_id= here or on PrefectProvider, or use "
            "a workspace URL as the endpoint."
        ]
    return []


def check_pools_against_provider(provider: Construct, settings: ProviderSettings) -> None:
    """Check pools declared before the stack's provider against its settings."""
    stack_pools = _POOLS_BY_STACK.get(TerraformStack.of(provider))
    for pool in stack_pools.pools if stack_pools else ():
        pool._fail_if(_check_workspace(pool.workspace_id, settings))
