"""Measure the synthesis time and peak memory of N Prefect work pools.

Three variants write the same `prefect_work_pool` blocks for N pools of type
`kubernetes`, each with three job variables set:

- `construct`: `WorkPoolWithDefaults`, which validates and renders the template.
- `binding`: `WorkPoolBlock`, the stand-in for the generated binding, given the
  template rendered once by hand into a canonical JSON string.
- `plain`: plain Python writing the same Terraform JSON with `json.dump`,
  without cdktf or jsii.

Each measurement runs in a fresh worker process, `synth.py --worker VARIANT N`,
so every variant starts its jsii Node.js processes cold. Repetitions interleave
the variants in rotating order. Run from the repository root:

    .venv/bin/python benchmarks/synth.py            # full run, under 3 minutes
    .venv/bin/python benchmarks/synth.py --quick    # smoke run, a few seconds
    .venv/bin/python benchmarks/synth.py --profile construct 1000

`--profile` needs pyinstrument (`pip install -e '.[bench]'`). BENCHMARKS.md
explains the figures and records one run.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import hashlib
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
METADATA_PATH = ROOT / "constructs_prefect" / "data" / "worker_metadata.json"
ENDPOINT = "http://127.0.0.1:4200/api"
STACK_ID = "bench"
POOL_TYPE = "kubernetes"
JOB_VARIABLES = {
    "namespace": "flows",
    "image": "org/flows:1.0",
    "finished_job_ttl": 300,
}
VARIANTS = ("construct", "binding", "plain")
RESULT_PREFIX = "BENCH_RESULT "

# Repetitions per N, chosen so that the full run stays under 3 minutes on a
# 2-core machine (BENCHMARKS.md records the total of one run).
REPETITIONS = {1: 5, 100: 5, 1000: 3}
QUICK_REPETITIONS = {1: 1, 100: 1}
IMPORT_REPETITIONS = 7
# `pass` measures interpreter start and exit alone, for comparison.
IMPORT_STATEMENTS = ("import constructs_prefect", "import cdktf", "pass")

# N=5000 runs only if one worker run of each variant is projected to take under
# a minute and a round of all three fits in the time left. The projection is
# linear from N=1000, with a margin in case the cost per pool grows with N.
LARGE_N = 5000
LARGE_N_MAX_REPETITIONS = 3
LARGE_N_RUN_LIMIT_SECONDS = 60.0
TOTAL_BUDGET_SECONDS = 170.0
PROJECTION_MARGIN = 1.25
WORKER_TIMEOUT_SECONDS = 150.0

# Targets: construct/binding time at N=1000, the construct's cost per pool at
# N=100 against N=1000, and the fresh-process import against that of cdktf.
MAX_CONSTRUCT_OVER_BINDING = 1.15
MAX_PER_POOL_SPREAD = 1.2
MAX_IMPORT_RATIO = 1.3

Runs = list[dict[str, Any]]
Results = dict[int, dict[str, Runs]]


# Worker side: each synth_* function writes N pools into `outdir`.


def render_template_by_hand() -> str:
    """Render the kubernetes template with the job variables, without the library.

    This is what a cdktf user can do by hand: take the default template, set
    the defaults, and dump canonical JSON with Terraform's `${` and `%{`
    escaped, once for all pools.
    """
    metadata = json.loads(METADATA_PATH.read_text())
    template = metadata["worker_types"][POOL_TYPE]["base_job_template"]
    properties = template["variables"]["properties"]
    for name, value in JOB_VARIABLES.items():
        properties[name] = {**properties[name], "default": value}
    text = json.dumps(
        template, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return text.replace("${", "$${").replace("%{", "%%{")


def synth_construct(outdir: str, count: int) -> None:
    from cdktf import App, TerraformStack

    from constructs_prefect import PrefectProvider, WorkPoolWithDefaults

    app = App(outdir=outdir)
    stack = TerraformStack(app, STACK_ID)
    PrefectProvider(stack, "prefect", endpoint=ENDPOINT)
    for index in range(count):
        WorkPoolWithDefaults(
            stack,
            f"pool{index}",
            name=f"pool-{index}",
            type=POOL_TYPE,
            job_variables=JOB_VARIABLES,
        )
    app.synth()


def synth_binding(outdir: str, count: int) -> None:
    from cdktf import App, TerraformStack

    from constructs_prefect import PrefectProvider
    from constructs_prefect._resources import WorkPoolBlock

    template = render_template_by_hand()
    app = App(outdir=outdir)
    stack = TerraformStack(app, STACK_ID)
    PrefectProvider(stack, "prefect", endpoint=ENDPOINT)
    for index in range(count):
        WorkPoolBlock(
            stack,
            f"pool{index}",
            name=f"pool-{index}",
            type=POOL_TYPE,
            base_job_template=template,
        )
    app.synth()


def synth_plain(outdir: str, count: int) -> None:
    """Write the stack file that cdktf writes, with the same blocks and comments."""
    template = render_template_by_hand()
    pools = {
        f"pool{index}": {
            "//": {
                "metadata": {
                    "path": f"{STACK_ID}/pool{index}",
                    "uniqueId": f"pool{index}",
                }
            },
            "base_job_template": template,
            "name": f"pool-{index}",
            "type": POOL_TYPE,
        }
        for index in range(count)
    }
    state_path = f"{os.getcwd()}/terraform.{STACK_ID}.tfstate"
    document = {
        "//": {
            "metadata": {
                "backend": "local",
                "stackName": STACK_ID,
                "version": "0.21.0",
            },
            "outputs": {},
        },
        "provider": {"prefect": [{"endpoint": ENDPOINT}]},
        "resource": {"prefect_work_pool": pools},
        "terraform": {
            "backend": {"local": {"path": state_path}},
            "required_providers": {
                "prefect": {"source": "prefecthq/prefect", "version": "3.4.1"}
            },
        },
    }
    stack_dir = pathlib.Path(outdir, "stacks", STACK_ID)
    stack_dir.mkdir(parents=True)
    with open(stack_dir / "cdk.tf.json", "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2, ensure_ascii=False)


SYNTHESIZERS: dict[str, Callable[[str, int], None]] = {
    "construct": synth_construct,
    "binding": synth_binding,
    "plain": synth_plain,
}


def import_variant(variant: str) -> None:
    """Import what the variant needs. Importing cdktf starts jsii's Node.js too."""
    if variant in ("construct", "binding"):
        import cdktf  # noqa: F401

        import constructs_prefect  # noqa: F401


def output_digest(outdir: str) -> str:
    """Hash the Terraform content of the stack, without cdktf's `//` comments.

    Equal digests across variants show that they wrote the same provider,
    pools and required providers.
    """
    path = pathlib.Path(outdir, "stacks", STACK_ID, "cdk.tf.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    pools = document["resource"]["prefect_work_pool"]
    content = {
        "provider": document["provider"],
        "pools": {
            address: {key: value for key, value in block.items() if key != "//"}
            for address, block in pools.items()
        },
        "required_providers": document["terraform"]["required_providers"],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def descendant_peaks_kib(pid: int) -> list[int]:
    """Return `VmHWM` (peak RSS) of each live descendant of `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in field 2 may contain spaces, so split after it.
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
    peaks = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        pending.extend(children.get(child, []))
        try:
            status = pathlib.Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return peaks


def run_worker(variant: str, count: int) -> None:
    """Time one variant and print its result as one JSON line at exit.

    Peak RSS: `python` is this process (`RUSAGE_SELF`), read right after
    synthesis, before the output is hashed. jsii runs two Node.js processes:
    `jsii-runtime.js` starts `program.js`, which hosts the kernel. `node` is
    `RUSAGE_CHILDREN`, the largest peak among reaped descendants, so the
    kernel's. It is read in the last exit handler, which runs after jsii's own
    handler has stopped and reaped them. `node_sum` adds the `VmHWM` of both,
    read from /proc after synthesis.
    """
    result: dict[str, Any] = {"variant": variant, "n": count}
    atexit.register(_print_result, result)

    started = time.perf_counter()
    import_variant(variant)
    result["import_seconds"] = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="synth-bench-") as outdir:
        started = time.perf_counter()
        SYNTHESIZERS[variant](outdir, count)
        result["seconds"] = time.perf_counter() - started
        result["python_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["node_sum_kib"] = sum(descendant_peaks_kib(os.getpid()))
        result["digest"] = output_digest(outdir)


def _print_result(result: dict[str, Any]) -> None:
    result["node_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_profile(variant: str, count: int) -> None:
    """Print a pyinstrument profile of one variant's build and synthesis.

    For the cdktf variants, also print the jsii kernel requests per pool by
    request type. A `_CompleteRequest` sends Node.js the result of a callback
    into Python, such as `synthesizeAttributes`.
    """
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("pyinstrument is not installed. Run: pip install -e '.[bench]'")
    import_variant(variant)
    requests = collections.Counter()
    if variant != "plain":
        _count_jsii_requests(requests)
    profiler = Profiler(interval=0.001)
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as outdir:
        profiler.start()
        SYNTHESIZERS[variant](outdir, count)
        profiler.stop()
    # Library frames stay visible, because the jsii and cdktf layers take most
    # of the time. Frames under 2% of the total are left out.
    text = profiler.output_text(
        time="percent_of_total",
        processor_options={"show_regex": ".*", "filter_threshold": 0.02},
    )
    print(text)
    if requests:
        print(f"jsii kernel requests per pool, {sum(requests.values())} in all:")
        for name, total in requests.most_common():
            print(f"  {name:<22} {total / count:6.2f}")


def _count_jsii_requests(requests: collections.Counter[str]) -> None:
    # NOTE: this wraps `_NodeProcess.send`, a private method of the jsii
    # runtime (1.142) that sends every kernel request. Only `--profile` uses
    # it, never the timed runs.
    from jsii._kernel.providers import process

    send = process._NodeProcess.send

    def counting_send(self: Any, request: Any, response_type: Any) -> Any:
        requests[type(request).__name__] += 1
        return send(self, request, response_type)

    process._NodeProcess.send = counting_send


# Parent side.


def child_environment() -> dict[str, str]:
    environment = dict(os.environ, CHECKPOINT_DISABLE="1", DO_NOT_TRACK="1")
    if "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in environment:
        major = subprocess.run(
            ["node", "-p", "process.versions.node.split('.')[0]"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = major
    return environment


def measure(variant: str, count: int, environment: dict[str, str]) -> dict[str, Any]:
    """Run one worker and return its result, plus the worker's wall time."""
    command = [sys.executable, __file__, "--worker", variant, str(count)]
    started = time.perf_counter()
    completed = subprocess.run(
        command,
        check=False,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_SECONDS,
    )
    process_seconds = time.perf_counter() - started
    lines = [
        line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)
    ]
    if completed.returncode != 0 or not lines or '"seconds"' not in lines[-1]:
        raise RuntimeError(
            f"worker {variant} N={count} failed with exit code "
            f"{completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
        )
    result = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    result["process_seconds"] = process_seconds
    return result


def rotations(items: Sequence[str], repetitions: int) -> list[list[str]]:
    """Return one order per repetition, each rotated one step from the last."""
    return [
        [items[(start + offset) % len(items)] for offset in range(len(items))]
        for start in range(repetitions)
    ]


def measure_size(
    count: int, repetitions: int, environment: dict[str, str]
) -> dict[str, Runs]:
    """Run every variant `repetitions` times at N=`count`, interleaved.

    Raises:
        RuntimeError: A worker failed, or the variants wrote different content.
    """
    runs: dict[str, Runs] = {variant: [] for variant in VARIANTS}
    for order in rotations(VARIANTS, repetitions):
        for variant in order:
            runs[variant].append(measure(variant, count, environment))
    digests = {run["digest"] for variant_runs in runs.values() for run in variant_runs}
    if len(digests) != 1:
        raise RuntimeError(f"variants wrote different Terraform content at N={count}.")
    print(f"  N={count}: {repetitions} runs per variant, same output", flush=True)
    return runs


def measure_imports(
    repetitions: int, environment: dict[str, str]
) -> dict[str, list[float]]:
    """Time `python -c <statement>` in fresh processes, interleaved."""
    times: dict[str, list[float]] = {statement: [] for statement in IMPORT_STATEMENTS}
    for order in rotations(IMPORT_STATEMENTS, repetitions):
        for statement in order:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", statement],
                cwd=ROOT,
                env=environment,
                check=True,
                capture_output=True,
            )
            times[statement].append(time.perf_counter() - started)
    return times


def plan_large_size(runs_1000: dict[str, Runs], elapsed: float) -> tuple[int, str]:
    """Decide how many N=5000 repetitions to run, and explain the decision."""
    projected = {}
    for variant, runs in runs_1000.items():
        startup = statistics.median(
            run["process_seconds"] - run["seconds"] for run in runs
        )
        per_pool = statistics.median(run["seconds"] for run in runs) / 1000
        projected[variant] = startup + per_pool * LARGE_N * PROJECTION_MARGIN
    slowest = max(projected, key=projected.__getitem__)
    round_seconds = sum(projected.values())
    left = TOTAL_BUDGET_SECONDS - elapsed
    estimates = ", ".join(
        f"{variant} {value:.1f} s" for variant, value in projected.items()
    )
    detail = (
        f"one run projected from N=1000 x{LARGE_N // 1000} x{PROJECTION_MARGIN}: "
        f"{estimates}"
    )
    if projected[slowest] >= LARGE_N_RUN_LIMIT_SECONDS:
        limit = LARGE_N_RUN_LIMIT_SECONDS
        return 0, f"skipped, {detail}; {slowest} is over {limit:.0f} s"
    repetitions = min(LARGE_N_MAX_REPETITIONS, int(left // round_seconds))
    if repetitions == 0:
        needed = f"a round needs {round_seconds:.0f} s of {left:.0f} s left"
        return 0, f"skipped, {detail}; {needed}"
    return repetitions, f"run {repetitions}x, {detail}; {left:.0f} s of the budget left"


# Report.


def _spread(values: Sequence[float], digits: int = 3) -> str:
    """Format the median, then [min-max]."""
    median = statistics.median(values)
    return f"{median:.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def median_seconds(results: Results, count: int, variant: str) -> float:
    return statistics.median(run["seconds"] for run in results[count][variant])


def print_times(results: Results) -> None:
    print(
        "\nBuild+synth wall time (s), cost per pool (median/N), worker import time (s):"
    )
    print(
        f"{'N':>6} {'variant':<10} {'runs':>4} {'median [min-max]':>24} {'ms/pool':>9}"
        f" {'import':>7}"
    )
    for count, by_variant in results.items():
        for variant, runs in by_variant.items():
            seconds = [run["seconds"] for run in runs]
            per_pool_ms = statistics.median(seconds) / count * 1000
            imports = statistics.median(run["import_seconds"] for run in runs)
            print(
                f"{count:>6} {variant:<10} {len(runs):>4} {_spread(seconds):>24}"
                f" {per_pool_ms:>9.3f} {imports:>7.3f}"
            )


def print_memory(results: Results) -> None:
    print(
        "\nPeak RSS (MiB), median [min-max]: python = the worker, node = the jsii"
        " kernel (program.js), node sum = both Node.js processes:"
    )
    print(f"{'N':>6} {'variant':<10} {'python':>14} {'node':>16} {'node sum':>16}")
    for count, by_variant in results.items():
        for variant, runs in by_variant.items():
            columns = []
            for key in ("python_kib", "node_kib", "node_sum_kib"):
                values = [run[key] / 1024 for run in runs]
                columns.append(_spread(values, digits=0) if max(values) else "-")
            print(
                f"{count:>6} {variant:<10} {columns[0]:>14} {columns[1]:>16}"
                f" {columns[2]:>16}"
            )


def print_ratios(results: Results) -> None:
    print("\nRatios of medians, and marginal cost per added pool (ms):")
    smallest = min(results)
    for count in results:
        construct = median_seconds(results, count, "construct")
        binding = median_seconds(results, count, "binding")
        plain = median_seconds(results, count, "plain")
        line = (
            f"  N={count:<5} construct/binding {construct / binding:5.2f}"
            f"  binding/plain {binding / plain:6.1f}"
        )
        if count != smallest:
            marginal = {
                variant: (
                    median_seconds(results, count, variant)
                    - median_seconds(results, smallest, variant)
                )
                / (count - smallest)
                * 1000
                for variant in VARIANTS
            }
            line += "  marginal " + " ".join(
                f"{variant} {value:.3f}" for variant, value in marginal.items()
            )
        print(line)


def print_imports(times: dict[str, list[float]]) -> float:
    """Print the fresh-process import times and return the ratio of medians."""
    print("\nFresh-process wall time (s), median [min-max]:")
    for statement, values in times.items():
        print(f"  python -c {statement!r:28} {_spread(values)}")
    ratio = statistics.median(times["import constructs_prefect"]) / statistics.median(
        times["import cdktf"]
    )
    print(f"  import constructs_prefect / import cdktf: {ratio:.2f}")
    return ratio


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "n/a, not measured in this run"
    return f"{value:.2f} {'PASS' if value <= limit else 'MISS'} (limit {limit})"


def per_pool_spread(results: Results, variant: str) -> float | None:
    """Return the larger over the smaller cost per pool at N=100 and N=1000."""
    if 100 not in results or 1000 not in results:
        return None
    small = median_seconds(results, 100, variant) / 100
    large = median_seconds(results, 1000, variant) / 1000
    return max(small, large) / min(small, large)


def print_targets(results: Results, import_ratio: float) -> None:
    construct_over_binding = None
    if 1000 in results:
        construct = median_seconds(results, 1000, "construct")
        construct_over_binding = construct / median_seconds(results, 1000, "binding")
    targets = [
        (
            "construct/binding at N=1000",
            construct_over_binding,
            MAX_CONSTRUCT_OVER_BINDING,
        ),
        (
            "construct ms/pool, N=100 against N=1000",
            per_pool_spread(results, "construct"),
            MAX_PER_POOL_SPREAD,
        ),
        ("import constructs_prefect / import cdktf", import_ratio, MAX_IMPORT_RATIO),
    ]
    print("\nTargets:")
    for label, value, limit in targets:
        print(f"  {label:<42} {verdict(value, limit)}")
    binding_spread = per_pool_spread(results, "binding")
    if binding_spread is not None:
        print(f"  {'(binding ms/pool, N=100 against N=1000)':<42} {binding_spread:.2f}")


def run_parent(quick: bool) -> None:
    started = time.perf_counter()
    environment = child_environment()
    repetitions = QUICK_REPETITIONS if quick else REPETITIONS
    import_repetitions = 1 if quick else IMPORT_REPETITIONS
    print(f"Load average at start: {_load_average()}")

    print(f"Imports: {import_repetitions} runs each, interleaved", flush=True)
    import_times = measure_imports(import_repetitions, environment)

    print("Synthesis, variants interleaved in rotating order:", flush=True)
    results: Results = {}
    for count, count_repetitions in repetitions.items():
        results[count] = measure_size(count, count_repetitions, environment)
    if quick:
        print(f"  N={LARGE_N}: skipped, --quick")
    else:
        elapsed = time.perf_counter() - started
        large_repetitions, decision = plan_large_size(results[1000], elapsed)
        print(f"  N={LARGE_N}: {decision}", flush=True)
        if large_repetitions:
            results[LARGE_N] = measure_size(LARGE_N, large_repetitions, environment)

    print_times(results)
    print_memory(results)
    print_ratios(results)
    import_ratio = print_imports(import_times)
    print_targets(results, import_ratio)
    print(f"\nLoad average at end: {_load_average()}")
    print(f"Total wall time: {time.perf_counter() - started:.1f} s")


def _load_average() -> str:
    one_minute, five_minutes, fifteen_minutes = os.getloadavg()
    return f"{one_minute:.2f} {five_minutes:.2f} {fifteen_minutes:.2f} (1, 5, 15 min)"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="run once each at N=1 and N=100"
    )
    parser.add_argument(
        "--profile",
        nargs=2,
        metavar=("VARIANT", "N"),
        help="print a pyinstrument profile of one variant at N pools",
    )
    parser.add_argument(
        "--worker",
        nargs=2,
        metavar=("VARIANT", "N"),
        help="used by the full run: time one variant and print the result",
    )
    arguments = parser.parse_args(argv)
    if arguments.worker or arguments.profile:
        variant, count = arguments.worker or arguments.profile
        if variant not in VARIANTS or not count.isdigit() or int(count) < 1:
            parser.error(
                f"VARIANT must be one of {', '.join(VARIANTS)} and N a whole number "
                f"of 1 or more, got {variant!r} {count!r}."
            )
        run = run_worker if arguments.worker else run_profile
        run(variant, int(count))
    else:
        run_parent(arguments.quick)


if __name__ == "__main__":
    main()
