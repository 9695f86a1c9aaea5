"""The package's public names, imports and wheel."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import venv

import constructs_prefect

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_all_lists_every_public_name():
    public = {
        name
        for name, value in vars(constructs_prefect).items()
        if not name.startswith("_") and not isinstance(value, type(os))
    }

    assert set(constructs_prefect.__all__) == public
    assert constructs_prefect.__all__ == sorted(constructs_prefect.__all__)


def test_prefect_sdk_imports_in_same_process():
    script = (
        "import prefect, prefect.workers.base, constructs_prefect\n"
        "print(prefect.__file__)\n"
        "print(prefect.__version__)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    prefect_file, version = result.stdout.split()
    assert "site-packages" in prefect_file
    assert version.startswith("3.")


def test_no_prefect_module_at_repository_root():
    assert not (ROOT / "prefect").exists()
    assert not (ROOT / "prefect.py").exists()


def test_wheel_installs_and_synthesizes(tmp_path):
    # Build from a copy, so setuptools' build/ folder is not shared with a
    # concurrent run in the working tree.
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "constructs_prefect",
        source / "constructs_prefect",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    wheel_dir = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheel_dir),
            str(source),
        ],
        check=True,
    )
    (wheel,) = wheel_dir.glob("constructs_prefect-*.whl")
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True
    )
    script = (
        "import json, cdktf, constructs_prefect as cp\n"
        "stack = cdktf.TerraformStack(cdktf.Testing.app(), 's')\n"
        "cp.PrefectProvider(stack, 'prefect', endpoint='http://127.0.0.1:4200/api')\n"
        "cp.WorkPoolWithDefaults(stack, 'k8s', name='k8s', type='kubernetes')\n"
        "out = json.loads(cdktf.Testing.synth(stack))\n"
        "print(cp.__file__)\n"
        "print(sorted(out['resource']['prefect_work_pool']))\n"
    )

    result = subprocess.run(
        [str(python), "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    module_file, pools = result.stdout.strip().splitlines()
    assert module_file.startswith(str(environment))
    assert pools == "['k8s']"
    installed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "\nprefect==" not in f"\n{installed}"
