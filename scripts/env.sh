# Environment shared by the project's scripts. Source it from the repository
# root: `. scripts/env.sh`. It changes nothing on disk.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROOT
export TOOLS="$ROOT/.tools"
export PATH="$TOOLS/bin:$ROOT/.venv/bin:$ROOT/node_modules/.bin:$PATH"

# Terraform and OpenTofu install providers only from the project's mirror.
export TF_CLI_CONFIG_FILE="$TOOLS/terraform.rc"
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1

# jsii prints an end-of-life banner for Node 20 unless this equals the running
# Node major version.
if command -v node >/dev/null 2>&1; then
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=$(node -p 'process.versions.node.split(".")[0]')
  export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION
fi

# Prefect and its server send no telemetry.
export DO_NOT_TRACK=1
export PREFECT_SERVER_ANALYTICS_ENABLED=false
