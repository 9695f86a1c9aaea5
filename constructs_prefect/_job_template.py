"""A work pool's base job template while a construct edits it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from . import _rendering, _templates

# Marks an argument left out, where None is a valid value.
UNSET: Any = object()
_VARIABLE_NAME = re.compile(r"[A-Za-z_][\w\-]*")


class JobTemplate:
    """A base job template in one of three forms, with checked edits.

    - literal: a JSON document known at synth time, edited and validated here;
    - terraform: the `prefect_worker_metadata` attribute of the pool's type,
      read at plan time, with job variables merged in by Terraform;
    - token: a complete template that is a Terraform expression, used as is.

    Each edit method returns one message per problem and changes nothing
    when there is one.
    """

    def __init__(
        self,
        pool_type: str,
        *,
        document: dict[str, Any] | None = None,
        terraform_attribute: str | None = None,
        token: str | None = None,
        may_contain_tokens: bool = False,
    ) -> None:
        self.pool_type = pool_type
        self.document = document
        self.terraform_attribute = terraform_attribute
        self.token = token
        self.terraform_job_variables: dict[str, Any] = {}
        # The bundled defaults contain no tokens, so rendering scans for them
        # only after an edit or a user template could have added one.
        self.may_contain_tokens = may_contain_tokens

    @property
    def form(self) -> str:
        if self.token is not None:
            return "token"
        if self.terraform_attribute is not None:
            return "terraform"
        return "literal"

    def set_variables(self, values: Any) -> list[str]:
        if not isinstance(values, Mapping):
            return [
                "job_variables must be a mapping of variable name to value, "
                f"got {type(values).__name__}."
            ]
        problems = [
            f"job_variables keys must be variable names (strings), got {key!r}."
            for key in values
            if not isinstance(key, str)
        ]
        if problems:
            return problems
        values = {name: _templates.to_plain(value) for name, value in values.items()}
        if self.form == "token":
            return [_token_template_message("job_variables")]
        if self.form == "terraform":
            for name, value in values.items():
                if not _VARIABLE_NAME.fullmatch(name):
                    problems.append(
                        f"job_variables[{name!r}] is not a valid variable name: "
                        "with WorkerMetadata.from_terraform() names must be "
                        "identifiers such as 'image'."
                    )
                problem = _templates.json_value_problem(value, exact_integers=True)
                if problem:
                    problems.append(f"job_variables[{name!r}] is invalid: {problem}.")
            if not problems:
                self.terraform_job_variables.update(values)
            return problems

        properties = self.document["variables"].get("properties", {})
        for name, value in values.items():
            if name not in properties:
                problems.append(self._undeclared_message(name, properties))
                continue
            problems += self.value_problems(
                f"job_variables[{name!r}]", value, properties[name]
            )
        if problems:
            return problems
        for name, value in values.items():
            properties[name] = {**properties[name], "default": value}
            self.may_contain_tokens |= _templates.contains_token(value)
        return []

    def patch(self, patch: Any) -> list[str]:
        if not isinstance(patch, Mapping):
            return [
                "job_configuration must be a mapping merged into the "
                f"template's job_configuration, got {type(patch).__name__}."
            ]
        if self.form != "literal":
            return [self._not_literal_message("job_configuration")]
        problem = _templates.json_value_problem(patch)
        if problem:
            return [f"job_configuration is not valid JSON: {problem}."]
        patch = _templates.to_plain(patch)
        patched = dict(self.document)
        patched["job_configuration"] = _templates.deep_merge(
            self.document["job_configuration"], patch
        )
        problems = _templates.check_template_shape(patched)
        if not problems:
            self.document = patched
            self.may_contain_tokens |= _templates.contains_token(patch)
        return problems

    def add_variable(
        self,
        name: Any,
        schema: Any,
        placeholder_path: Any,
        default: Any = UNSET,
        required: Any = False,
    ) -> list[str]:
        if self.form != "literal":
            return [self._not_literal_message("add_job_variable")]
        properties = self.document["variables"].get("properties", {})
        problems = []
        if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name):
            problems.append(
                "job variable name must be an identifier such as "
                f"'ephemeral_storage_limit', got {name!r}."
            )
        elif name in properties:
            problems.append(
                f"job variable {name!r} is already declared. Use "
                f"job_variables={{{name!r}: ...}} to change its default."
            )
        problems += _schema_problems(name, schema)
        if not isinstance(required, bool):
            problems.append(f"required must be True or False, got {required!r}.")
        try:
            path = _templates.parse_path(placeholder_path)
        except ValueError as error:
            path = None
            problems.append(f"placeholder_path {placeholder_path!r} {error}.")
        if problems:
            return problems

        property_schema = _templates.to_plain(schema)
        if default is not UNSET:
            default = _templates.to_plain(default)
            problems = self.value_problems(
                f"default of job variable {name!r}", default, property_schema
            )
            property_schema["default"] = default
        configuration = _templates.copy_json(self.document["job_configuration"])
        existing = _templates.value_at_path(configuration, path)
        if existing is not _templates.MISSING:
            problems.append(
                f"placeholder_path {placeholder_path!r} already has the value "
                f"{existing!r} in job_configuration. Choose a path to a new key, "
                "or use job_configuration to change existing values."
            )
        else:
            try:
                _templates.set_at_path(configuration, path, "{{ " + name + " }}")
            except LookupError as error:
                problems.append(
                    f"placeholder_path {placeholder_path!r} does not exist in "
                    f"job_configuration: nothing at {str(error)!r}. Check the "
                    "template with `prefect work-pool get-default-base-job-template "
                    f"--type {self.pool_type}`."
                )
        if problems:
            return problems

        variables = self.document["variables"]
        variables.setdefault("properties", {})[name] = property_schema
        if required:
            variables["required"] = sorted({*variables.get("required", []), name})
        self.document["job_configuration"] = configuration
        self.may_contain_tokens |= _templates.contains_token(default)
        return []

    def value_problems(
        self, label: str, value: Any, property_schema: Mapping[str, Any]
    ) -> list[str]:
        """Return the problems of one value against a property schema."""
        problem = _templates.json_value_problem(value)
        if not problem and _templates.contains_token(value):
            # A value with a token passes through jsii, whose numbers are
            # doubles.
            problem = _templates.json_value_problem(value, exact_integers=True)
        if problem:
            return [f"{label} must be a JSON value: {problem}."]
        if _templates.contains_token(value):
            return []
        if _is_block_reference_shape(value):
            if _is_block_reference(value):
                return []
            return [
                f"{label} = {_templates.short_repr(value)} is not a valid block "
                "reference. Use "
                "{'$ref': {'block_document_id': '<uuid>'}}."
            ]
        errors = _templates.validate_value(
            value, property_schema, self.document["variables"]
        )
        return [
            f"{label} = {_templates.short_repr(value)} is invalid"
            f"{' at ' + location if location else ''}: "
            f"{message}."
            for location, message in errors
        ]

    def unused_variables(self) -> list[str]:
        if self.form != "literal":
            return []
        return _templates.unused_variables(self.document)

    def literal_secrets(self) -> list[str]:
        """Return the job variables whose default puts a literal secret in."""
        if self.form != "literal":
            return []
        variables = self.document["variables"]
        return sorted(
            name
            for name, schema in variables.get("properties", {}).items()
            if isinstance(schema, Mapping)
            and "default" in schema
            and _has_literal_secret(schema["default"], schema, variables)
        )

    def render(
        self,
        data_source_attribute: Callable[[str], str],
        local_values: _rendering.LocalValues,
    ) -> str:
        if self.form == "token":
            return self.token
        if self.form == "terraform":
            source = data_source_attribute(self.terraform_attribute)
            return _rendering.render_terraform_time(
                source, self.terraform_job_variables, local_values
            )
        return _rendering.render_literal(
            self.document,
            may_contain_tokens=self.may_contain_tokens,
            local_values=local_values,
        )

    def _undeclared_message(self, name: str, properties: Mapping[str, Any]) -> str:
        message = (
            f"job_variables[{name!r}] is not a variable of this "
            f"{self.pool_type!r} pool's template."
        )
        suggestions = _templates.closest(name, list(properties))
        if suggestions:
            message += f" Did you mean {', '.join(map(repr, suggestions))}?"
        declared = ", ".join(sorted(properties)) or "(none)"
        return message + f" Declared variables: {declared}."

    def _not_literal_message(self, argument: str) -> str:
        if self.form == "token":
            return _token_template_message(argument)
        return (
            f"{argument} cannot be applied when the template is read at "
            "Terraform time (WorkerMetadata.from_terraform()), because the "
            "template is unknown at synth time. Only job_variables are "
            "supported there, so use WorkerMetadata.bundled() or "
            "WorkerMetadata.from_api(...) for deeper edits."
        )


def _token_template_message(argument: str) -> str:
    return (
        f"{argument} cannot be applied to a base_job_template that is a "
        "Terraform expression, because its content is unknown at synth time. "
        "Pass the template as a dict or JSON string instead."
    )


def _schema_problems(name: Any, schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return [f"schema of job variable {name!r} must be a mapping, got {schema!r}."]
    problem = _templates.json_value_problem(schema)
    if problem:
        return [f"schema of job variable {name!r} is not valid JSON: {problem}."]
    problem = _templates.schema_problem(dict(schema))
    if problem:
        return [
            f"schema of job variable {name!r} is not a valid JSON schema: {problem}."
        ]
    return []


def _is_block_reference_shape(value: Any) -> bool:
    return isinstance(value, Mapping) and "$ref" in value


def _is_block_reference(value: Any) -> bool:
    """Return whether `value` is a Prefect block reference, `{"$ref": {...}}`."""
    if list(value) != ["$ref"]:
        return False
    target = value["$ref"]
    return (
        isinstance(target, Mapping)
        and bool(target)
        and all(isinstance(item, str) and item for item in target.values())
    )


def _has_literal_secret(
    value: Any, schema: Mapping[str, Any], variables: Mapping[str, Any]
) -> bool:
    """Return whether a literal string sits where the schema marks a secret.

    A secret is a `writeOnly` or `format: password` field (Prefect's schemas
    mark `SecretStr` fields this way), looked up through one level of
    `allOf`/`anyOf` and `$ref` into the template's definitions.
    """
    schemas = _resolved(schema, variables)
    if any(_is_secret(candidate) for candidate in schemas):
        return isinstance(value, str) and not _templates.contains_token(value)
    if not isinstance(value, Mapping):
        return False
    for candidate in schemas:
        for key, field in candidate.get("properties", {}).items():
            item = value.get(key)
            if (
                isinstance(field, Mapping)
                and _is_secret(field)
                and isinstance(item, str)
                and item
                and not _templates.contains_token(item)
            ):
                return True
    return False


def _is_secret(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("writeOnly")) or schema.get("format") == "password"


def _resolved(
    schema: Mapping[str, Any], variables: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    definitions = {**variables.get("definitions", {}), **variables.get("$defs", {})}
    found = [schema]
    for key in ("allOf", "anyOf", "oneOf"):
        found += [item for item in schema.get(key, []) if isinstance(item, Mapping)]
    resolved = []
    for item in found:
        reference = item.get("$ref")
        if isinstance(reference, str) and reference.rsplit("/", 1)[-1] in definitions:
            resolved.append(definitions[reference.rsplit("/", 1)[-1]])
        resolved.append(item)
    return resolved


def parse_user_template(template: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """Parse a complete template given as a mapping or a JSON string."""
    if isinstance(template, str):
        try:
            template = json.loads(template)
        except ValueError as error:
            return None, [f"base_job_template is a string but not valid JSON: {error}."]
    problems = _templates.check_template_shape(template)
    if problems:
        return None, problems
    return _templates.to_plain(template), []
