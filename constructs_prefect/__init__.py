"""CDK for Terraform constructs for Prefect, on the prefecthq/prefect provider."""

from ._errors import ConfigurationError
from ._resources import PROVIDER_SOURCE, PROVIDER_VERSION
from .provider import PrefectProvider
from .work_pool import WorkPoolWithDefaults, terraform_name
from .worker_metadata import WorkerMetadata, WorkerMetadataError

__all__ = [
    "ConfigurationError",
    "PROVIDER_SOURCE",
    "PROVIDER_VERSION",
    "PrefectProvider",
    "WorkPoolWithDefaults",
    "WorkerMetadata",
    "WorkerMetadataError",
    "terraform_name",
]
