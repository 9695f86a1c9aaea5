"""Checks of the plain arguments of the constructs.

Each function returns one message per problem, so a construct can report
every problem of a call at once.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ._templates import contains_token

# Characters the Prefect server rejects in names (prefect.types.names, 3.9).
BANNED_NAME_CHARACTERS = "/%&><"
# The provider (v3.4.1) appends a pool's name to the request path without
# escaping it, so `?` and `#` would cut the path and a control character makes
# Go reject the URL. The Prefect server accepts all of them.
_URL_BREAKING_CHARACTERS = "?#"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# A Terraform name: a resource name or a provider alias.
TERRAFORM_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# The limit passes through jsii as a JavaScript double, exact up to 2**53.
_EXACT_INTEGER_MAX = 2**53


def is_uuid(value: str) -> bool:
    return bool(_UUID_PATTERN.match(value))


def name_problems(name: Any) -> list[str]:
    if not isinstance(name, str):
        return [f"name must be a string, got {name!r}."]
    if contains_token(name):
        return []
    if not name.strip("'\" "):
        return [
            f"name must not be empty, got {name!r}. Pass the work pool's name, "
            "such as 'etl'."
        ]
    problems = []
    if not _is_utf8(name):
        problems.append("name contains a lone surrogate, which is not valid UTF-8.")
    banned = sorted({c for c in name if c in BANNED_NAME_CHARACTERS})
    if banned:
        problems.append(
            f"name {name!r} contains {', '.join(map(repr, banned))}, which "
            "Prefect rejects in names. Remove the characters "
            f"{' '.join(BANNED_NAME_CHARACTERS)}."
        )
    breaking = sorted({c for c in name if c in _URL_BREAKING_CHARACTERS})
    if breaking or _CONTROL_CHARACTERS.search(name):
        offending = ", ".join(map(repr, breaking)) or "a control character"
        problems.append(
            f"name {name!r} contains {offending}, which the provider puts unescaped "
            "into request URLs, so the pool could not be read back. Remove it."
        )
    if name.lower().startswith("prefect"):
        problems.append(
            f"name {name!r} starts with 'prefect', which the Prefect server "
            "reserves for internal pools. Choose another name."
        )
    return problems


def optional_string_problems(argument: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{argument} must be a string, got {value!r}."]
    if not _is_utf8(value):
        return [f"{argument} contains a lone surrogate, which is not valid UTF-8."]
    return []


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def optional_bool_problems(argument: str, value: Any) -> list[str]:
    if value is None or isinstance(value, bool) or contains_token(value):
        return []
    return [f"{argument} must be True or False, got {value!r}."]


def uuid_problems(argument: str, value: Any) -> list[str]:
    if value is None or contains_token(value):
        return []
    if not isinstance(value, str) or not is_uuid(value):
        return [
            f"{argument} must be a UUID such as "
            f"'00000000-0000-0000-0000-000000000000', got {value!r}."
        ]
    return []


def concurrency_limit_problems(limit: Any) -> list[str]:
    if limit is None:
        return []
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        if contains_token(limit):
            return []
        return [
            f"concurrency_limit must be an integer, got {limit!r}. "
            "Omit it for no limit."
        ]
    if isinstance(limit, float) and not math.isfinite(limit):
        return [
            f"concurrency_limit must be a finite integer, got {limit!r}. "
            "Omit it for no limit."
        ]
    if contains_token(limit):
        return []
    if limit != int(limit):
        return [f"concurrency_limit must be a whole number, got {limit!r}."]
    if limit < 0:
        return [
            f"concurrency_limit must be 0 or greater, got {limit!r}. "
            "Omit it for no limit."
        ]
    if limit > _EXACT_INTEGER_MAX:
        return [
            f"concurrency_limit must be at most 2**53 ({_EXACT_INTEGER_MAX}), "
            f"because jsii carries it as a JavaScript number, got {limit!r}."
        ]
    return []


def instance_problems(
    argument: str, value: Any, expected: type, example: str
) -> list[str]:
    if value is None or isinstance(value, expected):
        return []
    return [
        f"{argument} must be a {expected.__name__} such as {example}, got {value!r}."
    ]
