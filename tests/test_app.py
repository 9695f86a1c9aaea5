"""The example app in main.py, through python and through cdktf-cli."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
STACK = "prefect-work-pools"


def _copy_app(destination: pathlib.Path) -> pathlib.Path:
    for name in ("main.py", "cdktf.json"):
        shutil.copy(ROOT / name, destination / name)
    return destination


def _environment(tmp_path: pathlib.Path) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp_path),
        "PREFECT_API_URL": "http://127.0.0.1:4200/api",
        "CHECKPOINT_DISABLE": "1",
    }


def _stack_json(app_dir: pathlib.Path) -> bytes:
    return (app_dir / "cdktf.out" / "stacks" / STACK / "cdk.tf.json").read_bytes()


def test_python_and_cdktf_synth_agree(tmp_path):
    _copy_app(tmp_path)
    # cdktf.json runs .venv/bin/python; point it at this interpreter.
    config = json.loads((tmp_path / "cdktf.json").read_text())
    config["app"] = f"{sys.executable} main.py"
    (tmp_path / "cdktf.json").write_text(json.dumps(config))
    env = _environment(tmp_path)
    subprocess.run([sys.executable, "main.py"], cwd=tmp_path, env=env, check=True)
    from_python = _stack_json(tmp_path)
    shutil.rmtree(tmp_path / "cdktf.out")

    result = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "cdktf"), "synth"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert _stack_json(tmp_path) == from_python


def test_app_declares_three_pools(tmp_path):
    _copy_app(tmp_path)

    subprocess.run(
        [sys.executable, "main.py"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        check=True,
    )

    document = json.loads(_stack_json(tmp_path))
    pools = document["resource"]["prefect_work_pool"]
    assert sorted(pools) == ["docker", "kubernetes", "local"]
    assert {pool["type"] for pool in pools.values()} == {
        "process",
        "docker",
        "kubernetes",
    }
    assert document["provider"]["prefect"] == [
        {"endpoint": "http://127.0.0.1:4200/api"}
    ]


def test_app_without_endpoint_fails_clearly(tmp_path):
    _copy_app(tmp_path)
    env = _environment(tmp_path)
    del env["PREFECT_API_URL"]

    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "ConfigurationError: PrefectProvider 'prefect-work-pools/prefect': " in (
        result.stderr
    )
    assert "no Prefect API endpoint is set" in result.stderr
