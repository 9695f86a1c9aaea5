"""The `WorkPoolWithDefaults` construct."""

from __future__ import annotations

import builtins
import contextlib
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cdktf import Annotations, Fn, TerraformLocal, TerraformProvider, TerraformStack
from constructs import Construct

from . import _templates, _validation
from ._errors import ConfigurationError
from ._job_template import UNSET, JobTemplate, parse_user_template
from ._rendering import escape_literal
from ._resources import WorkerMetadataBlock, WorkPoolBlock
from .provider import ProviderSettings, settings_of_provider, stack_provider_settings
from .worker_metadata import (
    CLOUD_ONLY_TYPES,
    TERRAFORM_ATTRIBUTE_BY_TYPE,
    WorkerMetadata,
)

_KIND = "WorkPoolWithDefaults"


class _StackPools:
    """Pools declared in one stack, to keep names and addresses unique."""

    def __init__(self) -> None:
        self.pools: list[WorkPoolWithDefaults] = []
        # Pools rather than their paths, because reading a path is a jsii
        # call and only an error message needs it.
        self.pool_by_address: dict[str, WorkPoolWithDefaults] = {}
        self.pool_by_name: dict[tuple[str | None, str], WorkPoolWithDefaults] = {}
        self.metadata_blocks: dict[tuple[int, str | None], WorkerMetadataBlock] = {}


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
    if not snake or not _validation.TERRAFORM_NAME_PATTERN.match(snake):
        snake = f"pool_{snake}"
    return snake


class WorkPoolWithDefaults(Construct):
    """A Prefect work pool whose base job template starts from its type's default.

    The template is the default of the worker type, with
    `job_variables` set as defaults of the variables schema and
    `job_configuration` deep-merged into the job configuration. Every change is
    validated while the construct is created, and the template is rendered as
    canonical JSON, so re-synthesis is byte-identical. The provider compares
    the template as normalized JSON, so a second `terraform plan` should show
    no changes.

    NOTE: the no-changes plan is not yet verified against the real provider,
    because the provider could not be installed where this was built.

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
        try:
            super().__init__(scope, id)
        except RuntimeError as error:
            # The constructs library rejects an empty or repeated ID in
            # JavaScript, and jsii raises that as a RuntimeError.
            raise ConfigurationError(
                _KIND,
                f"{scope.node.path}/{id}",
                [
                    f"id {id!r} is invalid: {error}. Give each construct a unique, "
                    "non-empty id within its scope."
                ],
            ) from None
        # Leave no half-built child behind, so a corrected retry with the same
        # id works.
        with _removed_on_error(scope, _node_id(self, id)):
            self.pool_name = name
            self.pool_type = type
            self.workspace_id = workspace_id
            self._terraform_name = terraform_name(_node_id(self, id))
            self._reported_warnings: set[str] = set()
            stack = _stack_of(self, scope)
            self._stack = stack
            self._provider = (
                provider if isinstance(provider, TerraformProvider) else None
            )
            self._provider_key = builtins.id(self._provider)
            self._values_local: TerraformLocal | None = None
            self._stack_pools = _POOLS_BY_STACK.setdefault(stack, _StackPools())
            self._settings = (
                settings_of_provider(provider)
                if isinstance(provider, TerraformProvider)
                else stack_provider_settings(stack)
            )

            problems = _argument_problems(
                name,
                type,
                description,
                paused,
                concurrency_limit,
                workspace_id,
                account_id,
                adopt,
                worker_metadata,
                provider,
            )
            if self._settings is not None:
                problems += _check_workspace(workspace_id, account_id, self._settings)
            problems += self._uniqueness_problems()
            self._metadata = (
                worker_metadata
                if isinstance(worker_metadata, WorkerMetadata)
                else WorkerMetadata.for_construct(self)
            )
            template_problems: list[str] = []
            if isinstance(type, str) and type.strip():
                self._job_template, template_problems = self._initial_template(
                    type, base_job_template
                )
                if not template_problems and job_configuration is not None:
                    template_problems += self._job_template.patch(job_configuration)
                if not template_problems and job_variables is not None:
                    template_problems += self._job_template.set_variables(job_variables)
            self._fail_if(problems + template_problems)

            self.resource = WorkPoolBlock(
                self,
                "Resource",
                name=escape_literal(name),
                type=escape_literal(type),
                base_job_template=self._render(),
                description=escape_literal(description),
                paused=paused,
                concurrency_limit=concurrency_limit,
                workspace_id=workspace_id,
                account_id=account_id,
                provider=provider,
            )
            self.resource.override_logical_id(self._terraform_name)
            if adopt:
                import_id = name if workspace_id is None else f"{name},{workspace_id}"
                self.resource.import_from(escape_literal(import_id), provider)
            self._register()
            self._report_warnings()

    # Public edits: each validates, then re-renders the resource's template.

    def set_job_variables(self, job_variables: Mapping[str, Any]) -> None:
        """Set defaults of variables in the template's schema.

        Each name must be declared in `variables.properties`. Each value must
        validate against that property's JSON schema, unless it is a Terraform
        token, because a token's value is only known at plan time.

        Raises:
            ConfigurationError: A name is undeclared or a value is invalid.
        """
        self._fail_if(self._job_template.set_variables(job_variables))
        self._refresh()

    def patch_job_configuration(self, patch: Mapping[str, Any]) -> None:
        """Deep-merge `patch` into `job_configuration`.

        Raises:
            ConfigurationError: `patch` is not an object, the template is not
                known at synth time, or the result uses a placeholder that no
                variable declares.
        """
        self._fail_if(self._job_template.patch(patch))
        self._refresh()

    def add_job_variable(
        self,
        name: str,
        *,
        schema: Mapping[str, Any],
        placeholder_path: str | Sequence[str | int],
        default: Any = UNSET,
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
                invalid, or the path is malformed, already has a value, or runs
                through a missing list item.
        """
        self._fail_if(
            self._job_template.add_variable(
                name, schema, placeholder_path, default=default, required=required
            )
        )
        self._refresh()

    # Outputs.

    @property
    def address(self) -> str:
        """Terraform address, for `terraform import <address> <pool name>`."""
        return f"{WorkPoolBlock.TF_RESOURCE_TYPE}.{self._terraform_name}"

    @property
    def base_job_template(self) -> dict[str, Any] | None:
        """The rendered template, or `None` when it is known only to Terraform."""
        if self._job_template.form != "literal":
            return None
        return _templates.copy_json(self._job_template.document)

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

    def _name_key(self) -> tuple[str | None, str] | None:
        """Return the pool's identity in Prefect: its effective workspace and name."""
        if not isinstance(self.pool_name, str):
            return None
        workspace = self.workspace_id
        if workspace is None and self._settings is not None:
            workspace = self._settings.workspace_id
        if workspace is not None and not isinstance(workspace, str):
            return None
        return workspace, self.pool_name

    def _uniqueness_problems(self) -> list[str]:
        problems = []
        other = self._stack_pools.pool_by_address.get(self.address)
        if other is not None:
            problems.append(
                f"Terraform address {self.address} is already used by "
                f"{other.node.path!r}. Give one of the two constructs another id."
            )
        key = self._name_key()
        other = self._stack_pools.pool_by_name.get(key) if key else None
        if other is not None:
            problems.append(
                f"name {self.pool_name!r} is already used by work pool "
                f"{other.node.path!r} in this stack, and Prefect keeps one pool "
                "per name. Choose another name."
            )
        return problems

    def _register(self) -> None:
        self._stack_pools.pool_by_address[self.address] = self
        key = self._name_key()
        if key is not None:
            self._stack_pools.pool_by_name[key] = self
        self._stack_pools.pools.append(self)

    def _initial_template(
        self, pool_type: str, base_job_template: Any
    ) -> tuple[JobTemplate | None, list[str]]:
        if _templates.contains_token(base_job_template):
            if not isinstance(base_job_template, str):
                return None, ["base_job_template must be a string token or a dict."]
            return JobTemplate(pool_type, token=base_job_template), []
        if base_job_template is not None:
            document, problems = parse_user_template(base_job_template)
            if problems:
                return None, problems
            return JobTemplate(
                pool_type, document=document, may_contain_tokens=True
            ), []
        if _templates.contains_token(pool_type):
            return None, [
                "type is a Terraform token, so its default template cannot be "
                "chosen at synth time. Pass a literal type or a complete "
                "base_job_template."
            ]
        if self._metadata.at_terraform_time:
            attribute = TERRAFORM_ATTRIBUTE_BY_TYPE.get(pool_type)
            if attribute is None:
                return None, [self._unknown_type_message(pool_type)]
            return JobTemplate(pool_type, terraform_attribute=attribute), []
        try:
            document = self._metadata.template(pool_type)
        except KeyError:
            return None, [self._unknown_type_message(pool_type)]
        return JobTemplate(pool_type, document=document), []

    def _unknown_type_message(self, pool_type: str) -> str:
        known = self._metadata.types
        message = (
            f"type {pool_type!r} has no default template in "
            f"{self._metadata.description}. Known types: "
            f"{', '.join(known) or '(none)'}."
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

    def _refresh(self) -> None:
        resource = getattr(self, "resource", None)
        if resource is not None:
            resource.attributes["base_job_template"] = self._render()
            self._report_warnings()

    def _report_warnings(self) -> None:
        messages = [
            f"[constructs_prefect:unused-variable] job variable {variable!r} is "
            "declared but no placeholder in job_configuration uses it, so Prefect "
            "ignores it."
            for variable in self._job_template.unused_variables()
        ] + [
            f"[constructs_prefect:secret-in-template] job variable {variable!r} has "
            "a literal secret as its default, which is written into cdk.tf.json "
            "and the Terraform state. Use a Prefect block reference "
            "{'$ref': {'block_document_id': ...}} or a sensitive TerraformVariable."
            for variable in self._job_template.literal_secrets()
        ]
        for message in messages:
            if message not in self._reported_warnings:
                self._reported_warnings.add(message)
                Annotations.of(self).add_warning(message)

    def _render(self) -> str:
        return self._job_template.render(
            self._data_source_attribute, self._local_values
        )

    def _local_values(self, values: list[Any]) -> list[Any]:
        """Store `values` in this pool's `locals` entry and return references."""
        entries = {f"v{index}": value for index, value in enumerate(values)}
        if self._values_local is None:
            self._values_local = TerraformLocal(self, "TemplateValues", entries)
            self._values_local.override_logical_id(
                f"{self._terraform_name}_template_values"
            )
        else:
            self._values_local.expression = entries
        return [Fn.lookup(self._values_local.expression, key) for key in entries]

    def _data_source_attribute(self, attribute: str) -> str:
        # One data source per provider and workspace, shared by the stack's pools.
        key = (self._provider_key, self.workspace_id)
        blocks = self._stack_pools.metadata_blocks
        block = blocks.get(key)
        if block is None:
            logical_id = "prefect_worker_metadata" + (
                f"_{len(blocks)}" if blocks else ""
            )
            try:
                block = WorkerMetadataBlock(
                    self._stack,
                    f"PrefectWorkerMetadata{len(blocks)}",
                    workspace_id=self.workspace_id,
                    provider=self._provider,
                )
            except RuntimeError as error:
                self._fail_if(
                    [
                        f"the prefect_worker_metadata data source cannot be added: {error}."
                    ]
                )
            block.override_logical_id(logical_id)
            blocks[key] = block
        return block.base_job_config(attribute)


@contextlib.contextmanager
def _removed_on_error(scope: Construct, child_id: str) -> Iterator[None]:
    """Remove the child `child_id` of `scope` when an exception escapes."""
    try:
        yield
    except Exception:
        scope.node.try_remove_child(child_id)
        raise


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
    try:
        return TerraformStack.of(construct)
    except RuntimeError:
        raise ConfigurationError(
            _KIND,
            construct.node.path,
            [
                "the pool is not inside a TerraformStack. Create it with a stack, "
                "or a construct inside one, as its scope."
            ],
        ) from None


def _argument_problems(
    name: Any,
    pool_type: Any,
    description: Any,
    paused: Any,
    concurrency_limit: Any,
    workspace_id: Any,
    account_id: Any,
    adopt: Any,
    worker_metadata: Any,
    provider: Any,
) -> list[str]:
    problems = _validation.name_problems(name)
    if not isinstance(pool_type, str) or not pool_type.strip():
        problems.append(
            f"type must be a non-empty string such as 'process', got {pool_type!r}."
        )
    problems += _validation.optional_string_problems("description", description)
    problems += _validation.optional_bool_problems("paused", paused)
    problems += _validation.concurrency_limit_problems(concurrency_limit)
    problems += _validation.uuid_problems("workspace_id", workspace_id)
    problems += _validation.uuid_problems("account_id", account_id)
    if not isinstance(adopt, bool):
        problems.append(f"adopt must be True or False, got {adopt!r}.")
    problems += _validation.instance_problems(
        "worker_metadata", worker_metadata, WorkerMetadata, "WorkerMetadata.bundled()"
    )
    problems += _validation.instance_problems(
        "provider", provider, TerraformProvider, "a PrefectProvider"
    )
    return problems


def _check_workspace(
    workspace_id: Any, account_id: Any, settings: ProviderSettings
) -> list[str]:
    if settings.cloud is False:
        return [
            f"{argument} {value!r} is only for Prefect Cloud, but the stack's "
            f"provider targets a self-hosted server. Remove {argument}."
            for argument, value in (
                ("workspace_id", workspace_id),
                ("account_id", account_id),
            )
            if value is not None
        ]
    if settings.cloud and workspace_id is None and settings.workspace_id is None:
        return [
            "no workspace is set: the provider targets Prefect Cloud without a "
            "workspace_id. Pass workspace_id= here or on PrefectProvider, or use "
            "a workspace URL as the endpoint."
        ]
    return []


def check_pools_against_provider(
    stack: TerraformStack, settings: ProviderSettings
) -> None:
    """Check pools declared before the stack's provider against its settings."""
    stack_pools = _POOLS_BY_STACK.get(stack)
    for pool in stack_pools.pools if stack_pools else ():
        pool._fail_if(_check_workspace(pool.workspace_id, None, settings))
