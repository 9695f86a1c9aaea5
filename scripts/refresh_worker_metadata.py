"""Write the bundled worker metadata snapshot from the installed Prefect SDK.

For each work pool type this records the template that
`prefect work-pool create --type <type>` uses. That is the default template
of the worker class installed with Prefect where one exists (Prefect 3 ships
`process`). Otherwise it is the `default_base_job_configuration` of the
aggregate worker metadata, which a Prefect server bundles and serves at
`GET /api/collections/views/aggregate-worker-metadata` when it cannot reach
Prefect's registry.

Run it with the project virtualenv after changing the pinned `prefect` version:

    .venv/bin/python scripts/refresh_worker_metadata.py

Nothing here opens a network connection: both sources are files and classes
inside the installed `prefect` package.
"""

from __future__ import annotations

import json
import pathlib
import sys
from importlib import resources

SNAPSHOT_PATH = (
    pathlib.Path(__file__).resolve().parent.parent
    / "constructs_prefect"
    / "data"
    / "worker_metadata.json"
)


def load_bundled_aggregate() -> dict:
    path = resources.files("prefect.server.api.collections_data").joinpath(
        "views/aggregate-worker-metadata.json"
    )
    return json.loads(path.read_text())


def build_snapshot() -> dict:
    import prefect
    from prefect.workers.base import BaseWorker

    worker_types = {}
    for collection, workers in sorted(load_bundled_aggregate().items()):
        for worker in workers.values():
            pool_type = worker["type"]
            worker_class = BaseWorker.get_worker_class_from_type(pool_type)
            if worker_class is not None:
                template = worker_class.get_default_base_job_template()
                origin = f"{worker_class.__module__}.{worker_class.__qualname__}"
            else:
                template = worker["default_base_job_configuration"]
                origin = f"aggregate-worker-metadata:{collection}"
            worker_types[pool_type] = {
                "base_job_template": template,
                "collection": collection,
                "display_name": worker.get("display_name"),
                "origin": origin,
            }
    return {
        "format_version": 1,
        "prefect_version": prefect.__version__,
        "worker_types": worker_types,
    }


def main() -> int:
    snapshot = build_snapshot()
    SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT_PATH.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")
    types = ", ".join(sorted(snapshot["worker_types"]))
    print(f"wrote {SNAPSHOT_PATH} from prefect {snapshot['prefect_version']}: {types}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
