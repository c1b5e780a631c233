"""The weekly fan-out: sampling workers started as docker-compose.yml deploys them sample 1,000
typical sources; sources per second and every worker process's peak memory."""

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key
from estimates import sampling
from estimates.models import Sample, SampleStatus
from tokenoffset.accounts.models import Account

from .load import compose_service, production_env
from .sampling import bench_source

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "sampler"


def deployed_worker(service: str = SERVICE) -> tuple[list[str], int]:
    """The service's command in docker-compose.yml (run with this interpreter) and its replicas."""
    block = compose_service(service)
    command = re.search(r"^    command: (.+)$", block, re.MULTILINE).group(1)
    replicas = re.search(r"^      replicas: (\d+)$", block, re.MULTILINE)
    argv = shlex.split(command)
    assert argv[0] == "celery", argv
    return [sys.executable, "-m", *argv], int(replicas.group(1)) if replicas else 1


def typical_sources(user, n_sources: int) -> list[int]:
    """n typical organisations (accounts), one source each: 5 groups a day, 150 ms per request.
    As in the service: the weekly run samples many customers' sources, not one account's."""
    accounts = Account.objects.bulk_create(
        Account(name=f"bench organisation {i}") for i in range(n_sources)
    )
    sources = [
        bench_source(
            account,
            user,
            "anthropic",
            make_key("anthropic", "heavy", params={"g": 5, "c": 5, "l": 150}),
            "bench typical",
            is_sandbox=False,  # the workers reach the sandbox as the vendor's own URL
            status="ready",
        )
        for account in accounts
    ]
    EstimateSource.objects.bulk_create(sources, batch_size=500)
    return [account.pk for account in accounts]


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a prefork pool's children), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_s(pids: list[int]) -> float:
    """CPU seconds the processes used, with their children that have ended (a server's)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(ticks) for ticks in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def processes(match: str) -> list[int]:
    """The processes whose command line contains ``match``, with their descendants."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and match in (entry / "cmdline").read_text().replace("\0", " "):
                found += process_tree(int(entry.name))
        except OSError:
            continue
    return found


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(found.group(1)) / 1024, 1) if found else None


def settle_database() -> None:
    """Vacuum and analyse after the bench's own bulk deletes and inserts, before the clock starts:
    on a running system autovacuum has long done so; here it would run during the fan-out."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def weekly_fanout(user, n_sources: int, cap_s: float) -> dict:
    """The deployed sampling workers sample n typical sources queued by the weekly fan-out."""
    accounts = typical_sources(user, n_sources)
    settle_database()
    command, replicas = deployed_worker()
    # As deployed: production settings (DEBUG off: no per-query bookkeeping), this run's keys.
    env = production_env(ANTHROPIC_API_BASE_URL=os.environ["VENDOR_SANDBOX_URL"])
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter
            [*command, "--hostname", f"bench-{SERVICE}-{i}@%h", "--loglevel", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for i in range(replicas)
    ]
    peaks: dict[int, float] = {}
    # Where the CPU goes (the machine's cores are the limit): the workers, the vendor sandbox
    # (the vendors' share, not ours), PostgreSQL.
    sandbox_port = os.environ["VENDOR_SANDBOX_URL"].rsplit(":", 1)[1]
    others = {
        "sandbox": f"-m connectors.sandbox --host 127.0.0.1 --port {sandbox_port}",
        "postgres": f"-p {settings.DATABASES['default']['PORT']} ",
    }
    try:
        time.sleep(3)  # let the workers connect before the burst
        tree = {name: processes(match) for name, match in others.items()}
        tree["workers"] = [pid for w in workers for pid in process_tree(w.pid)]
        cpu_before = {name: cpu_s(pids) for name, pids in tree.items()}
        started = time.perf_counter()
        result = sampling.samples_weekly_fanout(spread_minutes=0)
        done = 0
        while time.perf_counter() - started < cap_s:
            done = Sample.objects.filter(
                account__in=accounts,
                trigger="weekly",
                status__in=[SampleStatus.SUCCEEDED, SampleStatus.FAILED],
            ).count()
            if done >= result.queued:
                break
            time.sleep(0.1)  # the finish, to a tenth of a second
        wall = time.perf_counter() - started
        tree = {name: processes(match) for name, match in others.items()}
        tree["workers"] = [pid for w in workers for pid in process_tree(w.pid)]
        cpu = {name: cpu_s(pids) - cpu_before[name] for name, pids in tree.items()}
        for worker in workers:  # VmHWM: the peak so far, read before the processes end
            for pid in process_tree(worker.pid):
                if (peak := peak_rss_mib(pid)) is not None:
                    peaks[pid] = peak
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    succeeded = Sample.objects.filter(
        account__in=accounts, trigger="weekly", status=SampleStatus.SUCCEEDED
    ).count()
    return {
        "sources": result.queued,
        "accounts": len(accounts),
        "finished": done,
        "succeeded": succeeded,
        "complete": done >= result.queued,
        "wall_s": round(wall, 1),
        "sources_per_s": round(done / wall, 2) if wall else None,
        "worker_command": shlex.join(command[2:]),
        "worker_replicas": replicas,
        "worker_processes": len(peaks),
        "peak_rss_mib_max": max(peaks.values(), default=None),
        "peak_rss_mib_sum": round(sum(peaks.values()), 1),
        "cpu_ms_per_sample": {name: round(v * 1000 / max(done, 1), 1) for name, v in cpu.items()},
        "time_cap_s": cap_s,
    }


def table_line(f: dict) -> str:
    if "worker_command" not in f:  # a figure from before the sampling workers
        return f"weekly fan-out: {f['sources_per_s']} sources/s (before the sampling workers)"
    return (
        f"weekly fan-out: {f['finished']}/{f['sources']} sources finished "
        f"({f['succeeded']} succeeded) in {f['wall_s']} s = {f['sources_per_s']} sources/s "
        f"(`{f['worker_command']}` × {f['worker_replicas']}, 150 ms per request"
        + ("" if f["complete"] else f", stopped at the {f['time_cap_s']:.0f} s cap")
        + f"); peak worker memory {f['peak_rss_mib_max']} MiB per process at most, "
        f"{f['peak_rss_mib_sum']} MiB over {f['worker_processes']} process(es); CPU per sample: "
        + ", ".join(f"{name} {ms} ms" for name, ms in f["cpu_ms_per_sample"].items())
    )
