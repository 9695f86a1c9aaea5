"""Example app: three work pools on the Prefect server in PREFECT_API_URL.

    PREFECT_API_URL=http://127.0.0.1:4200/api python main.py   # or: cdktf synth

writes cdktf.out/stacks/prefect-work-pools/cdk.tf.json.
"""

from cdktf import App, TerraformStack
from constructs import Construct

from constructs_prefect import PrefectProvider, WorkPoolWithDefaults


class WorkPoolsStack(TerraformStack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        PrefectProvider(self, "prefect")

        WorkPoolWithDefaults(self, "local", name="local-processes", type="process")
        WorkPoolWithDefaults(
            self,
            "docker",
            name="docker-flows",
            type="docker",
            job_variables={"image": "prefecthq/prefect:3-python3.11"},
        )
        gpu = WorkPoolWithDefaults(
            self,
            "kubernetes",
            name="kubernetes-flows",
            type="kubernetes",
            description="Flow runs as Kubernetes jobs in the flows namespace.",
            concurrency_limit=10,
            job_variables={
                "namespace": "flows",
                "image": "prefecthq/prefect:3-python3.11",
                "env": {"PREFECT_LOGGING_LEVEL": "INFO"},
                "finished_job_ttl": 300,
            },
        )
        gpu.add_job_variable(
            "ephemeral_storage_limit",
            schema={"type": "string", "title": "Ephemeral storage limit"},
            default="2Gi",
            placeholder_path="job_manifest.spec.template.spec.containers.0"
            ".resources.limits.ephemeral-storage",
        )


app = App()
WorkPoolsStack(app, "prefect-work-pools")
app.synth()
