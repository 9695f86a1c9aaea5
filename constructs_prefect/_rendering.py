"""Rendering of base job templates into Terraform attribute values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cdktf import Fn

from . import _templates


def render_literal(template: Mapping[str, Any], *, may_contain_tokens: bool) -> str:
    """Render canonical JSON, with each token value JSON-encoded by Terraform.

    A token, such as a variable's value, cannot be serialized by Python, so it
    is replaced by a marker, the document is dumped and escaped, and each
    marker becomes `${jsonencode(<expression>)}`. The document is scanned for
    tokens only when `may_contain_tokens` is true, because the defaults of the
    bundled snapshot never contain any.
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

    document = replace(template) if may_contain_tokens else template
    text = _templates.escape_terraform_template(_templates.canonical_json(document))
    for index, value in enumerate(tokens):
        marker = json.dumps(f"\x00token{index}\x00")
        text = text.replace(marker, Fn.jsonencode(value))
    return text


def render_terraform_time(source: str, job_variables: Mapping[str, Any]) -> str:
    """Build the expression that sets `job_variables` as defaults at plan time.

    `source` is the token of the data source's JSON string. The expression is
    `jsonencode(merge(T, {variables = merge(T.variables, {properties =
    merge(T.variables.properties, {<name> = merge(<property>, {default =
    <value>})})})}))` with `T = jsondecode(source)`.
    """
    if not job_variables:
        return source
    template = Fn.jsondecode(source)
    variables = Fn.lookup(template, "variables")
    properties = Fn.lookup(variables, "properties")
    changed = {
        name: Fn.merge([Fn.lookup(properties, name), {"default": value}])
        for name, value in sorted(job_variables.items())
    }
    merged_variables = Fn.merge(
        [variables, {"properties": Fn.merge([properties, changed])}]
    )
    return Fn.jsonencode(Fn.merge([template, {"variables": merged_variables}]))


def escape_literal(value: Any) -> Any:
    """Escape a plain string attribute, leaving tokens and other types alone."""
    if isinstance(value, str) and not _templates.contains_token(value):
        return _templates.escape_terraform_template(value)
    return value
