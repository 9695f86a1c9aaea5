"""Rendering of base job templates into Terraform attribute values.

Values that hold Terraform tokens are never written into an expression as
text, because cdktf does not escape quotes or backslashes of string literals
inside function calls. They go into a `locals` entry instead, which cdktf
writes as JSON, and the template refers to its elements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from cdktf import Fn, Token

from . import _templates

# A cdktf string token, as embedded in a Python string.
_STRING_TOKEN = re.compile(r"\$\{TfToken\[[^\]]*\]\}")

# Receives the values that contain tokens and returns, for each, the token of
# an expression that evaluates to it at plan time.
LocalValues = Callable[[list[Any]], list[Any]]


def render_literal(
    template: Mapping[str, Any], *, may_contain_tokens: bool, local_values: LocalValues
) -> str:
    """Render canonical JSON, with each token value JSON-encoded by Terraform.

    Each value that contains a token is replaced by a marker, the document is
    dumped and escaped, and each marker becomes
    `${jsonencode(local.<name>[<index>])}`. The document is scanned for
    tokens only when `may_contain_tokens` is true, because the defaults of the
    bundled snapshot never contain any.
    """
    found: list[Any] = []

    def replace(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: replace(item) for key, item in value.items()}
        if isinstance(value, list) and not _templates.is_list_token(value):
            return [replace(item) for item in value]
        if _templates.contains_token(value):
            found.append(value)
            return f"\x00token{len(found) - 1}\x00"
        return value

    document = replace(template) if may_contain_tokens else template
    text = _templates.escape_terraform_template(_templates.canonical_json(document))
    if not found:
        return text
    references = local_values([terraform_value(value) for value in found])
    for index, reference in enumerate(references):
        marker = json.dumps(f"\x00token{index}\x00")
        text = text.replace(marker, Fn.jsonencode(reference))
    return text


def render_terraform_time(
    source: str, job_variables: Mapping[str, Any], local_values: LocalValues
) -> str:
    """Build the expression that sets `job_variables` as defaults at plan time.

    `source` is the token of the data source's JSON string. The expression is
    `jsonencode(merge(T, {variables = merge(T.variables, {properties =
    merge(T.variables.properties, {<name> = merge(<property>, {default =
    <value>})})})}))` with `T = jsondecode(source)`. The values come from a
    local, and the names are identifiers, so the expression contains no string
    that needs escaping.
    """
    if not job_variables:
        return source
    names = sorted(job_variables)
    values = local_values([terraform_value(job_variables[name]) for name in names])
    template = Fn.jsondecode(source)
    variables = Fn.lookup(template, "variables")
    properties = Fn.lookup(variables, "properties")
    changed = {
        name: Fn.merge([Fn.lookup(properties, name), {"default": value}])
        for name, value in zip(names, values)
    }
    merged_variables = Fn.merge(
        [variables, {"properties": Fn.merge([properties, changed])}]
    )
    return Fn.jsonencode(Fn.merge([template, {"variables": merged_variables}]))


def terraform_value(value: Any) -> Any:
    """Convert a JSON value for a `locals` entry, which Terraform evaluates.

    Literal text is escaped, because each string there is a template. `None`
    becomes an explicit null, because jsii would drop it from the JSON.
    """
    if value is None:
        return Token.null_value()
    if isinstance(value, str):
        return _escape_outside_tokens(value)
    if isinstance(value, Mapping):
        return {
            _templates.escape_terraform_template(key): terraform_value(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        if _templates.is_list_token(value):
            return Token.as_any(value)
        return [terraform_value(item) for item in value]
    return value


def escape_literal(value: Any) -> Any:
    """Escape a plain string attribute, leaving the tokens in it alone."""
    if isinstance(value, str):
        return _escape_outside_tokens(value)
    return value


def _escape_outside_tokens(text: str) -> str:
    parts = []
    position = 0
    for match in _STRING_TOKEN.finditer(text):
        parts.append(
            _templates.escape_terraform_template(text[position : match.start()])
        )
        parts.append(match.group(0))
        position = match.end()
    parts.append(_templates.escape_terraform_template(text[position:]))
    return "".join(parts)
