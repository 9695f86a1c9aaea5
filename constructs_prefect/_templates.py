"""Base job template checks, edits and canonical rendering.

Plain Python on plain JSON values. Only `contains_token` calls into jsii, and
only for floats, so a template is checked and rendered at about the cost of
`json.dumps`.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

# The placeholder syntax the Prefect server matches in job_configuration
# (prefect.utilities.templating.PLACEHOLDER_CAPTURE_REGEX, Prefect 3.9).
PLACEHOLDER_PATTERN = re.compile(r"({{\s*([\w\.\-\[\]$]+)\s*}})")

# cdktf encodes unresolved strings as `${TfToken[...]}` and lists as
# `#{TfToken[...]}`.
_TOKEN_MARKER = "TfToken["
_LIST_TOKEN_MARKER = "#{TfToken["


def is_list_token(value: Any) -> bool:
    """Return whether `value` is a list token: one encoded string in a list."""
    return (
        isinstance(value, (list, tuple))
        and len(value) == 1
        and isinstance(value[0], str)
        and _LIST_TOKEN_MARKER in value[0]
    )


def canonical_json(value: Any) -> str:
    """Serialize `value` with sorted keys and no whitespace.

    Equal values give equal bytes, so re-synthesis is byte-identical whatever
    the key order of the input.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def escape_terraform_template(text: str) -> str:
    """Escape `${` and `%{` so Terraform reads `text` as a literal string.

    Every string in a `.tf.json` file is a Terraform template, so a JSON value
    such as `"echo ${HOME}"` would otherwise be interpolated at plan time.
    """
    return text.replace("${", "$${").replace("%{", "%%{")


def contains_token(value: Any) -> bool:
    """Return whether `value` contains a cdktf token anywhere inside it."""
    if isinstance(value, str):
        return _TOKEN_MARKER in value
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        # cdktf encodes a number token as a finite float. NaN and infinity are
        # never tokens, and sending them through jsii breaks its JSON channel.
        if not isinstance(value, float) or not math.isfinite(value):
            return False
        from cdktf import Token

        return Token.is_unresolved(value)
    if isinstance(value, Mapping):
        return any(contains_token(k) or contains_token(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_token(item) for item in value)
    # A jsii object, such as an IResolvable, is resolved by cdktf at synth time.
    return hasattr(value, "__jsii_ref__")


# Deeper documents are rejected instead of risking a RecursionError.
MAX_DEPTH = 100
# jsii carries numbers as JavaScript doubles, exact up to 2**53.
MAX_EXACT_INTEGER = 2**53


def json_value_problem(
    value: Any, location: str = "", *, exact_integers: bool = False, depth: int = 0
) -> str | None:
    """Describe the first part of `value` that JSON cannot represent.

    Returns `None` for a value made of mappings with literal string keys,
    lists, tuples, UTF-8 strings, finite numbers, booleans, `None` and cdktf
    tokens. With `exact_integers`, integers beyond 2**53 are problems too,
    because the value passes through jsii.
    """
    where = location or "the value"
    if depth > MAX_DEPTH:
        return f"{where} is nested deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _string_problem(value, where)
    if isinstance(value, int):
        if exact_integers and abs(value) > MAX_EXACT_INTEGER:
            return f"{where} is {value}, beyond 2**53, which Terraform would round"
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return f"{where} is {value!r}, which JSON cannot represent"
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return (
                    f"{where} has the key {short_repr(key)} of type "
                    f"{type(key).__name__}, but JSON object keys must be strings"
                )
            if contains_token(key):
                return (
                    f"{where} has a Terraform token as a key, but keys must be "
                    "literal strings"
                )
            problem = _string_problem(key, f"the key {short_repr(key)} of {where}")
            problem = problem or json_value_problem(
                item,
                f"{location}[{key!r}]",
                exact_integers=exact_integers,
                depth=depth + 1,
            )
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = json_value_problem(
                item,
                f"{location}[{index}]",
                exact_integers=exact_integers,
                depth=depth + 1,
            )
            if problem:
                return problem
        return None
    if contains_token(value):
        return None
    return (
        f"{where} is {short_repr(value)} of type {type(value).__name__}, "
        "which is not a JSON value"
    )


def _string_problem(text: str, where: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{where} contains a lone surrogate, which is not valid UTF-8"
    return None


def short_repr(value: Any, limit: int = 200) -> str:
    """Return `repr(value)`, cut to about `limit` characters for messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 5]}...{text[-1]}"


def to_plain(value: Any, depth: int = 0) -> Any:
    """Copy mappings to dicts and tuples to lists, as `json.loads` would give.

    Values deeper than `MAX_DEPTH` are returned as they are, for
    `json_value_problem` to report.
    """
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: to_plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if is_list_token(value):
            return list(value)
        return [to_plain(item, depth + 1) for item in value]
    return value


def find_placeholders(value: Any) -> set[str]:
    """Return the names of the `{{ placeholder }}` references in `value`."""
    return {name for _, name in PLACEHOLDER_PATTERN.findall(json.dumps(value))}


def check_template_shape(template: Any, label: str = "base_job_template") -> list[str]:
    """Check a complete template the way the Prefect server does on create.

    Returns one message per problem, empty when the template is accepted.
    Each message starts with `label`, the name of the template for the reader.
    """
    if not isinstance(template, Mapping):
        return [
            f"{label} must be a JSON object with job_configuration and "
            f"variables, got {type(template).__name__}."
        ]
    problem = json_value_problem(template)
    if problem:
        return [f"{label} is not valid JSON: {problem}."]
    problems = []
    job_configuration = template.get("job_configuration")
    variables = template.get("variables")
    if not isinstance(job_configuration, Mapping) or not job_configuration:
        problems.append(
            f"{label} must contain a non-empty job_configuration object, "
            f"got {job_configuration!r}."
        )
    if not isinstance(variables, Mapping) or not variables:
        problems.append(
            f"{label} must contain a non-empty variables object, got {variables!r}."
        )
    elif not isinstance(variables.get("properties", {}), Mapping):
        problems.append(
            f"{label} variables.properties must be an object, "
            f"got {variables.get('properties')!r}."
        )
    else:
        for name, schema in variables.get("properties", {}).items():
            if not isinstance(schema, Mapping):
                problems.append(
                    f"{label} variables.properties[{name!r}] must be a "
                    f"JSON schema object, got {schema!r}."
                )
    if problems:
        return problems
    declared = set(variables.get("properties", {}))
    undeclared = sorted(find_placeholders(job_configuration) - declared)
    if undeclared:
        problems.append(
            "job_configuration uses undeclared placeholder(s) "
            f"{', '.join(undeclared)}. Declare each one in "
            "variables.properties, or remove the placeholder."
        )
    return problems


def unused_variables(template: Mapping[str, Any]) -> list[str]:
    """Variables declared in the schema that no placeholder uses."""
    declared = set(template["variables"].get("properties", {}))
    return sorted(declared - find_placeholders(template["job_configuration"]))


def closest(name: str, candidates: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)


@functools.lru_cache(maxsize=1024)
def _validator_for(schema_json: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = json.loads(schema_json)
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    return validator_class(schema)


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Describe why `schema` is not a usable JSON schema, or return `None`."""
    # jsonschema is imported on first use, so an app that validates no value
    # does not pay its import (about 40 ms on the benchmark machine).
    import jsonschema

    try:
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as error:
        return error.message
    return None


def validate_value(
    value: Any, property_schema: Mapping[str, Any], variables: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Validate one job variable value against its JSON schema.

    `$ref`s point into the variables schema (`#/definitions/...`), so its
    `definitions` and `$defs` are copied next to the property schema.

    Returns:
        `(location, message)` per error, where location is like `['env']['A']`
        or empty for the value itself. A schema that cannot be evaluated, such
        as one with an unknown type or a `$ref` to nothing, gives one error.
    """
    import jsonschema
    import referencing.exceptions

    schema = dict(property_schema)
    for key in ("definitions", "$defs"):
        if key in variables:
            schema[key] = variables[key]
    try:
        validator = _validator_for(canonical_json(schema))
        errors = sorted(
            validator.iter_errors(value), key=lambda error: list(error.path)
        )
        return [(_location(error), error.message) for error in errors]
    except (
        jsonschema.exceptions.UnknownType,
        referencing.exceptions.Unresolvable,
    ) as error:
        return [("", f"its schema cannot be evaluated: {error}")]


def _location(error: jsonschema.ValidationError) -> str:
    return "".join(f"[{part!r}]" for part in error.absolute_path)


def deep_merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `patch` into a copy of `base`: objects merge, other values replace."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(dict(merged[key]), value)
        else:
            merged[key] = copy_json(value)
    return merged


MISSING: Any = object()


def copy_json(value: Any) -> Any:
    """Copy the dicts and lists in `value`, sharing its immutable scalars.

    For a document fresh from `json.loads` this equals `copy.deepcopy`, in
    about a quarter of the time.
    """
    if type(value) is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if type(value) is list:
        return [copy_json(item) for item in value]
    return value


def value_at_path(document: Any, path: Sequence[str | int]) -> Any:
    """Return the value at `path` in `document`, or `MISSING`."""
    node = document
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return MISSING
    return node


def parse_path(path: str | Sequence[str | int]) -> list[str | int]:
    """Split `a.b.0.c` (or a sequence) into keys and list indexes.

    Raises:
        ValueError: The path is empty, or a step is empty, has surrounding
            whitespace, or is neither a string nor a non-negative integer.
    """
    if isinstance(path, str):
        parts: list[Any] = path.split(".")
    elif isinstance(path, Sequence):
        parts = list(path)
    else:
        raise ValueError(f"must be a dotted string or a sequence, got {path!r}")
    if not parts or parts == [""]:
        raise ValueError("must not be empty")
    steps: list[str | int] = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise ValueError(f"has the step {part!r}, which is not a key or index")
        if isinstance(part, int):
            if part < 0:
                raise ValueError(f"has the negative index {part}")
            steps.append(part)
        elif not part or part != part.strip():
            raise ValueError(f"has the empty or padded step {part!r}")
        else:
            steps.append(int(part) if part.isdigit() else part)
    return steps


def set_at_path(
    document: dict[str, Any], path: Sequence[str | int], value: Any
) -> None:
    """Set `value` at `path` in `document`, creating missing objects.

    Raises:
        LookupError: A list index is out of range, or a step goes through a
            value that is neither an object nor a list.
    """
    node: Any = document
    for position, part in enumerate(path[:-1]):
        following = path[position + 1]
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise LookupError(_path_text(path[: position + 1]))
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise LookupError(_path_text(path[:position]))
        if part not in node:
            node[part] = [] if isinstance(following, int) else {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last > len(node):
            raise LookupError(_path_text(path))
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise LookupError(_path_text(path[:-1]))


def _path_text(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)
