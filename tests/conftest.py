"""Fixtures that run real Prefect servers on 127.0.0.1 for end-to-end tests.

Each server is a `python -m prefect server start` subprocess with its own
PREFECT_HOME (and so its own SQLite database) and HOME under pytest's temporary
directory. Its environment points HTTP_PROXY and HTTPS_PROXY at a closed
loopback port, so any request to another host fails at once. The server's
fetch of Prefect's collection registry fails that way, and the server then
serves the worker metadata bundled with the installed `prefect` package.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import httpx
import pytest

BASIC_AUTH_KEY = "admin:secret-pass"
HEALTH_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
# Port 9 (discard) normally has no listener, so a connection through this
# proxy is refused at once.
CLOSED_PROXY_URL = "http://127.0.0.1:9"
_INHERITED_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


@dataclass(frozen=True)
class PrefectServer:
    """A Prefect server subprocess started by the test session.

    Attributes:
        api_url: The server's API URL, as in `PREFECT_API_URL`.
        env: Environment for `prefect` CLI commands against this server.
        home: The server's PREFECT_HOME, which contains its SQLite database.
        log_path: File that receives the server's stdout and stderr.
        process: The server subprocess, the leader of its own process group.
    """

    api_url: str
    env: dict[str, str]
    home: pathlib.Path
    log_path: pathlib.Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log_tail(self, line_count: int = 40) -> str:
        """Return the last `line_count` lines of the server log."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return f"(no server log at {self.log_path})"
        tail = "\n".join(lines[-line_count:])
        return f"last {line_count} lines of {self.log_path}:\n{tail}"


def unused_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that had no listener a moment ago.

    Another process may take the port between this call and its use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(
    base_dir: pathlib.Path, port: int, extra_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Build the environment of a server and of CLI commands that target it.

    Inherited `PREFECT_*` settings and proxy variables are dropped, so the
    developer's Prefect profile and network setup cannot redirect the server.
    """
    home = base_dir / "home"
    prefect_home = base_dir / "prefect-home"
    home.mkdir(exist_ok=True)
    prefect_home.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PREFECT_")
        and key.lower() not in _INHERITED_PROXY_VARIABLES
    }
    env.update(
        {
            "HOME": str(home),
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "HTTP_PROXY": CLOSED_PROXY_URL,
            "HTTPS_PROXY": CLOSED_PROXY_URL,
            "http_proxy": CLOSED_PROXY_URL,
            "https_proxy": CLOSED_PROXY_URL,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    env.update(extra_env or {})
    return env


def start_prefect_server(
    base_dir: pathlib.Path, extra_env: Mapping[str, str] | None = None
) -> PrefectServer:
    """Start `prefect server start` on 127.0.0.1 and wait until it is healthy.

    Args:
        base_dir: Empty directory for the server's HOME, PREFECT_HOME and log.
        extra_env: Variables added to the server's environment and to `env` of
            the result, such as `PREFECT_SERVER_API_AUTH_STRING`.

    Returns:
        The running server. Stop it with `stop_prefect_server`.

    Raises:
        pytest.fail.Exception: The server exited, or `GET /api/health` did not
            return 200 within `HEALTH_TIMEOUT_SECONDS`. The server is stopped
            first, and the message ends with the tail of its log.
    """
    port = unused_loopback_port()
    env = server_environment(base_dir, port, extra_env)
    log_path = base_dir / "server.log"
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=base_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrefectServer(
        api_url=env["PREFECT_API_URL"],
        env=env,
        home=pathlib.Path(env["PREFECT_HOME"]),
        log_path=log_path,
        process=process,
    )
    problem = _wait_until_healthy(server)
    if problem is not None:
        stop_prefect_server(server)
        pytest.fail(f"{problem}\n{server.log_tail()}")
    return server


def _wait_until_healthy(server: PrefectServer) -> str | None:
    """Poll the health endpoint until it returns 200.

    Returns:
        Why the server is not up, or `None` once it is.
    """
    url = f"{server.api_url}/health"
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    last_outcome = "no response"
    # trust_env=False keeps any proxy setting of the test process out of the
    # way, so the request goes straight to 127.0.0.1.
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        while time.monotonic() < deadline:
            exit_code = server.process.poll()
            if exit_code is not None:
                return f"Prefect server exited with code {exit_code} before {url} answered."
            try:
                response = client.get(url)
            except httpx.TransportError as error:
                last_outcome = f"{type(error).__name__}: {error}"
            else:
                if response.status_code == 200:
                    return None
                last_outcome = f"HTTP {response.status_code}"
            time.sleep(0.25)
    return (
        f"GET {url} did not return 200 within {HEALTH_TIMEOUT_SECONDS} seconds; "
        f"last outcome: {last_outcome}."
    )


def stop_prefect_server(server: PrefectServer) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after a timeout.

    The group is the one `start_new_session=True` created for the server, so
    its ID is the server's PID, and no other process is signalled.
    """
    group_id = server.process.pid
    for stop_signal in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group_id, stop_signal)
        try:
            server.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
    pytest.fail(
        f"Prefect server PID {group_id} survived SIGKILL for "
        f"{STOP_TIMEOUT_SECONDS} seconds."
    )


@contextlib.contextmanager
def running_prefect_server(
    base_dir: pathlib.Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[PrefectServer]:
    """Run a server for the duration of a `with` block, even if the block fails."""
    server = start_prefect_server(base_dir, extra_env)
    try:
        yield server
    finally:
        stop_prefect_server(server)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A Prefect server without authentication, shared by the session."""
    with running_prefect_server(tmp_path_factory.mktemp("prefect-server")) as server:
        yield server


@pytest.fixture(scope="session")
def basic_auth_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrefectServer]:
    """A Prefect server that requires basic auth with `BASIC_AUTH_KEY`.

    `env` also sets `PREFECT_API_AUTH_STRING`, the client setting, so CLI
    commands run with it authenticate.
    """
    extra_env = {
        "PREFECT_SERVER_API_AUTH_STRING": BASIC_AUTH_KEY,
        "PREFECT_API_AUTH_STRING": BASIC_AUTH_KEY,
    }
    base_dir = tmp_path_factory.mktemp("prefect-server-basic-auth")
    with running_prefect_server(base_dir, extra_env) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A loopback port with no listener, for connection failure tests."""
    return unused_loopback_port()
