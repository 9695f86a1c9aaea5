"""The exception raised for configuration mistakes."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigurationError(ValueError):
    """A construct received arguments it cannot synthesize.

    Raised in Python while the construct is created, before anything reaches
    Terraform. The message starts with the construct class and its path in the
    construct tree, then lists every problem found with the arguments.

    Attributes:
        construct_path: Path of the construct in the tree, such as `stack/etl`.
        problems: One sentence per problem, each naming the argument, the value
            received and the fix.
    """

    def __init__(
        self, construct_kind: str, construct_path: str, problems: Sequence[str]
    ) -> None:
        self.construct_path = construct_path
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            detail = self.problems[0]
        else:
            detail = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(f"{construct_kind} {construct_path!r}: {detail}")
