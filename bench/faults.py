"""Fault benchmark: five faults against a real `python -m demo` server, each checked against its contract.

- kill:   `kill -9` the server while two races run (one on an uploaded PNG), start a new one on the same
          TMPDIR; the new one must serve every time, remove the dead process's files and run a race.
- disk:   the server's TMPDIR on a small tmpfs filled to the last byte while a race runs; the race ends
          "done" with a `write_error`, a bystander race finishes, an upload is refused with HTTP 507, and
          once the filler is gone a new race gets its downloads. Then `--max-temp-mb 4` under six
          clients uploading 0.5 MB pictures: the bytes on disk stay near the cap.
- memory: (a) a race whose estimate exceeds the server's RLIMIT_AS is refused ("needs about", naming
          `max_side`); (b) RLIMIT_AS lowered mid-training: the race ends "error" ("the race ran out of CPU
          memory") while a bystander finishes; (c) the CLI under `ulimit -v` exits 2 with one line.
- vanish: clients that leave mid-race (half Chromium pages, half gradio_client); afterwards no race
          thread, no session folder, open files back at the baseline, RSS flat.
- load:   20 clients at once on `--max-jobs 2`; all finish, queue positions never rise.

Every server runs as `python -m demo` (through bench/soak_server.py, which tells its thread names on
SIGUSR1) with TMPDIR set to a private folder, so every file it writes can be counted.

    python bench/faults.py                                  # all five, full size (root: mounts a tmpfs)
    python bench/faults.py --only kill --cycles 2           # one fault, small
    python bench/faults.py --only vanish,load --json-out r.json

Prints a markdown table (fault | what happened | leftovers | memory before | memory after | pass), the
machine and date, and last one JSON line; exit code 0 when every check passed.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from soak import folder_bytes, free_port, proc_stats  # noqa: E402
from soak_server import IDLE_ANYIO  # noqa: E402

PRESET = ROOT / "assets" / "images" / "camera.png"
PRESET2 = ROOT / "assets" / "images" / "kodim05.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A small race: a 16-px picture and a 1 x 8 SIREN, INT against full batch.
SMALL = dict(
    samplers="int,full",
    max_side=16,
    width=8,
    hidden_layers=1,
    first_w0=30,
    lr=1e-3,
    eval_every=5,
    ratio=0.2,
    seed=0,
    target=0,
)
DISK_FULL = "could not write the downloads: the disk is full"
OOM_PREFIX = "the race ran out of CPU memory"
T0 = time.monotonic()


def say(what: str) -> None:
    print(f"faults: {time.monotonic() - T0:7.1f} s  {what}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- measuring


def rss_mb(pid: int) -> float:
    return proc_stats(pid)["rss_mb"]


def vm_size(pid: int) -> int:
    """The process's address space (VmSize), bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def tree(folder: Path) -> dict[str, Any]:
    """Files, folders and bytes under `folder` (entries that vanish while counting are skipped), and the
    set of file paths."""
    files, dirs, torch_dirs = set(), 0, 0
    for dirpath, dirnames, names in os.walk(folder):
        dirs += len(dirnames)
        if "torchinductor_" in dirpath:
            torch_dirs += len(dirnames)
        torch_dirs += sum(d.startswith("torchinductor_") for d in dirnames)
        files.update(os.path.join(dirpath, n) for n in names)
    top = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    # torch makes torchinductor_<user> under TMPDIR itself, once: not the app's
    return {"files": len(files), "dirs": dirs, "app_dirs": dirs - torch_dirs, "bytes": folder_bytes(folder),
            "paths": files, "top": top}


def brief(t: dict[str, Any]) -> str:
    top = f" ({', '.join(t['top'][:4])}{', ...' if len(t['top']) > 4 else ''})" if t["top"] else ""
    return f"{t['dirs']} folders, {t['files']} files, {t['bytes']:,} B{top}"


def session_folders(tmpdir: Path) -> list[Path]:
    """The session folders (named by a uuid4's 32 hex digits) of every server under `tmpdir`, in either
    layout: `int-studio-<uid>/run-*/sessions/<hex>` or today's `int-studio-<random>/<hex>`; Gradio's upload
    cache (`run-*/uploads`, `int-studio-uploads-*`) is left out."""
    found: list[Path] = []
    for dirpath, dirnames, _files in os.walk(tmpdir):
        keep = []
        for d in dirnames:
            if len(d) == 32 and all(ch in "0123456789abcdef" for ch in d):
                found.append(Path(dirpath) / d)
            elif d != "uploads" and not d.startswith("int-studio-uploads-"):
                keep.append(d)
        dirnames[:] = keep
    return found


def python_threads(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("int-race-")]


class Sampler(threading.Thread):
    """Samples `measure()` every `every` seconds until halted."""

    def __init__(self, measure: Callable[[], Any], every: float) -> None:
        super().__init__(daemon=True)
        self.measure, self.every, self.samples, self.halt = measure, every, [], threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            try:
                self.samples.append(self.measure())
            except (OSError, KeyError, ValueError):
                pass


# ---------------------------------------------------------------- the server


LIVE: list[Server] = []
"""every server started, so that an interrupted benchmark can stop them all (stop_all)"""


def stop_all() -> None:
    for server in LIVE:
        if server.alive():
            server.proc.kill()
            server.proc.wait(30)


class Server:
    """`python -m demo` (through bench/soak_server.py) with TMPDIR=`tmpdir`; its log and thread-name file
    live in `logs`, outside TMPDIR."""

    def __init__(self, tmpdir: Path, logs: Path, *args: str, port: int | None = None) -> None:
        self.tmpdir, self.logs = tmpdir, logs
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.names_file = logs / f"threads-{self.port}.json"
        env = {k: v for k, v in os.environ.items() if k not in ("GRADIO_TEMP_DIR", "GRADIO_HEARTBEAT_INTERVAL")}
        env.update(
            TMPDIR=str(tmpdir),
            PYTHONPATH=str(ROOT),
            INT_SOAK_THREADS=str(self.names_file),
            GRADIO_ANALYTICS_ENABLED="False",
        )
        self.log = logs / f"server-{self.port}-{int(time.time() * 1000)}.log"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "soak_server.py"),
                "--port",
                str(self.port),
                "--device",
                "cpu",
                *args,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "w"),
        )
        self.pid = self.proc.pid
        LIVE.append(self)

    def wait_ready(self, timeout: float = 300.0) -> float:
        """Seconds from the start until GET / answers 200."""
        import httpx

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        try:
            return " | ".join(self.log.read_text().strip().splitlines()[-3:])
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.names_file.unlink(missing_ok=True)

    def thread_names(self) -> list[str]:
        self.names_file.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        end = time.monotonic() + 10
        while time.monotonic() < end and not self.names_file.exists():
            time.sleep(0.1)
        return json.loads(self.names_file.read_text()) if self.names_file.exists() else ["(no answer)"]


def client(url: str):
    from tests.helpers import client_for

    return client_for(url)


def submit(c, picture: Path, api: str = "/compare", **settings: Any):
    from gradio_client import handle_file

    return c.submit(picture=handle_file(str(picture)), **{**SMALL, **settings}, api_name=api)


def statuses(job) -> list[dict]:
    return [o[0] for o in job.outputs() if isinstance(o, (list, tuple)) and o and isinstance(o[0], dict)]


def wait_running(job, timeout: float = 120.0, steps: bool = True) -> bool:
    """Until the race's last status says running (with a step taken, if `steps`)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = statuses(job)
        if s and s[-1]["state"] == "running" and (not steps or any(r["step"] > 0 for r in s[-1]["samplers"].values())):
            return True
        if job.done():
            return False
        time.sleep(0.2)
    return False


def outcome(job, timeout: float = 300.0) -> dict[str, Any]:
    """The end of a race: its last status and files, or the error the call ended with."""
    try:
        status, files = job.result(timeout=timeout)
        return {
            "state": status.get("state") if isinstance(status, dict) else None,
            "status": status,
            "files": files,
            "error": None,
        }
    except Exception as exc:  # noqa: BLE001 (what the client sees is the finding)
        return {"state": None, "status": None, "files": None, "error": f"{type(exc).__name__}: {exc}"}


def done(o: dict[str, Any]) -> bool:
    return o["state"] == "done" and not o["error"]


def make_png(path: Path, width: int, height: int, seed: int = 0, noise: bool = True) -> Path:
    """A PNG of random noise (incompressible: about width*height*3 bytes) or a smooth gradient (small)."""
    import numpy as np
    from PIL import Image

    if noise:
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        y, x = np.mgrid[0:height, 0:width]
        pixels = np.stack(
            [(x * 255 // max(width - 1, 1)), (y * 255 // max(height - 1, 1)), ((x + y + seed) % 256)], -1
        ).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def row(
    fault: str, happened: str, leftovers: str, before: str, after: str, checks: dict[str, bool], **data: Any
) -> dict[str, Any]:
    return {
        "fault": fault,
        "happened": happened,
        "leftovers": leftovers,
        "memory_before": before,
        "memory_after": after,
        "checks": checks,
        "passed": all(checks.values()),
        **data,
    }


# ---------------------------------------------------------------- 1. kill -9


def fault_kill(work: Path, cycles: int) -> dict[str, Any]:
    tmp = work / "kill-tmp"
    tmp.mkdir()
    png = make_png(work / "kill-upload.png", 96, 64, seed=1)
    server = Server(tmp, work)
    serve_s = [server.wait_ready()]
    after_start = [tree(tmp)]
    at_kill: list[dict] = []
    survivors: list[int] = []
    after_races: list[str | None] = []
    rss_before = rss_mb(server.pid)
    rss_at_kill = []
    try:
        for cycle in range(cycles):
            c1, c2 = client(server.url), client(server.url)
            jobs = [submit(c1, png, steps=100_000), submit(c2, PRESET, steps=100_000)]
            running = [wait_running(j) for j in jobs]
            rss_at_kill.append(rss_mb(server.pid))
            server.kill9()
            for c in (c1, c2):
                try:
                    c.close()
                except Exception:  # noqa: BLE001 (its server is gone)
                    pass
            left = tree(tmp)
            at_kill.append(left)
            say(f"kill {cycle + 1}/{cycles}: races running {running}; left by the dead server: {brief(left)}")
            server = Server(tmp, work, port=server.port)
            serve_s.append(server.wait_ready())
            now = tree(tmp)
            after_start.append(now)
            # the app's files only: other libraries' caches under TMPDIR (torchinductor_<user>) stay by design
            survivors.append(len({f for f in left["paths"] & now["paths"] if "/int-studio-" in f}))
            c = client(server.url)
            after_races.append(outcome(submit(c, PRESET, steps=40), timeout=180)["state"])
            c.close()
            say(
                f"  new server served after {serve_s[-1]:.1f} s; {brief(now)} ({survivors[-1]} of the dead's files "
                f"still there); its race: {after_races[-1]}"
            )
        rss_after = rss_mb(server.pid)
    finally:
        server.stop()
    clean_exit = tree(tmp)
    first = after_start[0]
    checks = {
        "the new server served every time": len(serve_s) == cycles + 1,
        "the dead server's files were gone after the next start": all(n == 0 for n in survivors),
        "bytes and folders after each start did not grow over the cycles": all(
            t["bytes"] <= first["bytes"] and t["app_dirs"] <= first["app_dirs"] for t in after_start
        ),
        "a race on each new server completed": len(after_races) == cycles and all(s == "done" for s in after_races),
    }
    happened = (
        f"{cycles} × kill -9 with 2 races running; the new server served after "
        f"{min(serve_s[1:] or [0]):.1f}–{max(serve_s[1:] or [0]):.1f} s (first start {serve_s[0]:.1f} s); "
        f"a race on each new server: {', '.join(map(str, after_races))}"
    )
    leftovers = (
        f"at each kill: {', '.join(str(t['dirs']) + 'd/' + format(t['bytes'], ',') + ' B' for t in at_kill)}; "
        f"after each start: {', '.join(str(t['dirs']) + 'd/' + format(t['bytes'], ',') + ' B' for t in after_start)}; "
        f"dead files surviving the next start: {survivors}; after a clean exit: {brief(clean_exit)}"
    )
    return row(
        "kill",
        happened,
        leftovers,
        f"{rss_before:.0f} MB (first server, idle)",
        f"{rss_after:.0f} MB (last server, after its race); {max(rss_at_kill or [0]):.0f} MB at the kills",
        checks,
        serve_seconds=[round(s, 2) for s in serve_s],
        survivors=survivors,
        after_start=[{k: v for k, v in t.items() if k != "paths"} for t in after_start],
        at_kill=[{k: v for k, v in t.items() if k != "paths"} for t in at_kill],
        after_clean_exit={k: v for k, v in clean_exit.items() if k != "paths"},
        races_after_restart=after_races,
    )


# ---------------------------------------------------------------- 2. the disk fills up


def fill(folder: Path) -> tuple[Path, int]:
    """A filler file that takes every free byte of `folder`'s file system; (path, its size)."""
    path = folder / "filler.bin"
    size = 0
    with open(path, "wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 12, 1):
            block = b"\0" * chunk
            while True:
                try:
                    size += fh.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return path, size


def upload_status(url: str, png: Path) -> tuple[int, str]:
    import httpx

    with open(png, "rb") as fh:
        r = httpx.post(f"{url}gradio_api/upload", files={"files": (png.name, fh, "image/png")}, timeout=60)
    return r.status_code, r.text[:200]


def fault_disk(work: Path, seconds: float, mb: int = 32) -> dict[str, Any]:
    mnt = work / "disk-tmpfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(mnt)], check=True)
    png = make_png(work / "disk-upload.png", 64, 64, seed=2)
    server = None
    filler = None
    try:
        server = Server(mnt, work)
        server.wait_ready()
        rss_before = rss_mb(server.pid)
        cb, ca = client(server.url), client(server.url)
        b = submit(cb, PRESET, steps=600)  # the bystander: about 20 s on a quiet 2-core machine
        wait_running(b)
        a = submit(ca, PRESET2, steps=150)
        a_ran = wait_running(a)
        filler, filled = fill(mnt)
        free = shutil.disk_usage(mnt).free
        say(f"disk: tmpfs {mb} MB filled ({filled:,} B filler, {free} B free); A running: {a_ran}")
        oa = outcome(a, 300)
        code, text = upload_status(server.url, png)
        say(f"disk: A ended {oa['state'] or oa['error']}; upload while full -> HTTP {code}")
        ob = outcome(b, 300)
        alive_full = server.alive()
        filler.unlink()
        filler = None
        cc = client(server.url)
        oc = outcome(submit(cc, PRESET, steps=30), 180)
        rss_after = rss_mb(server.pid)
        for c in (ca, cb, cc):
            c.close()
    finally:
        if filler is not None:
            filler.unlink(missing_ok=True)
        if server is not None:
            server.stop()
        left = tree(mnt)
        unmounted = subprocess.run(["umount", str(mnt)], check=False).returncode == 0
    a_status = oa["status"] or {}
    checks = {
        "A ended done": oa["state"] == "done",
        f"A's status: write_error = {DISK_FULL!r}": a_status.get("write_error") == DISK_FULL,
        "A's files None": oa["state"] is not None and oa["files"] is None,
        "bystander B finished done": done(ob),
        "an upload while full was refused with HTTP 507 and a message": code == 507 and bool(text.strip()),
        "the server stayed up": alive_full,
        "the tmpfs was unmounted": unmounted,
        "after the filler was deleted a new race got its downloads": done(oc) and bool(oc["files"]),
    }
    happened = (
        f"tmpfs {mb} MB filled while A raced: A {oa['state'] or oa['error']}, write_error "
        f"{a_status.get('write_error')!r}, files {'None' if oa['files'] is None else 'given'}; B "
        f"{ob['state'] or ob['error']}; upload while full: HTTP {code} {text[:80]!r}; after freeing: "
        f"{oc['state'] or oc['error']}, files {'given' if oc['files'] else 'none'}"
    )
    full = row(
        "disk",
        happened,
        f"after the clean exit: {brief(left)}",
        f"{rss_before:.0f} MB",
        f"{rss_after:.0f} MB",
        checks,
        upload_http=code,
        upload_text=text,
        a=oa["state"] or oa["error"],
        a_write_error=a_status.get("write_error"),
        b=ob["state"] or ob["error"],
        recovery=oc["state"] or oc["error"],
    )
    return full


def fault_temp_cap(work: Path, seconds: float, clients_n: int = 6, cap_mb: int = 4) -> dict[str, Any]:
    tmp = work / "cap-tmp"
    tmp.mkdir()
    pngs = work / "cap-pngs"
    pngs.mkdir()
    server = Server(tmp, work, "--max-temp-mb", str(cap_mb))
    server.wait_ready()
    base = tree(tmp)["bytes"]
    rss_before = rss_mb(server.pid)
    sampler = Sampler(lambda: folder_bytes(tmp), 0.25)
    sampler.start()
    deadline = time.monotonic() + seconds
    tallies: list[dict[str, Any]] = [{"races": 0, "done": 0, "errors": []} for _ in range(clients_n)]
    sizes: list[int] = []

    def user(i: int) -> None:
        c = client(server.url)
        k = 0
        try:
            while time.monotonic() < deadline:
                png = make_png(pngs / f"u{i}-{k}.png", 420, 420, seed=1000 * i + k)
                sizes.append(png.stat().st_size)
                o = outcome(submit(c, png, steps=20), 120)
                png.unlink()
                tallies[i]["races"] += 1
                tallies[i]["done"] += done(o)
                if not done(o):
                    tallies[i]["errors"].append(o["error"] or o["state"])
                k += 1
        finally:
            c.close()

    users = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients_n)]
    for u in users:
        u.start()
    for u in users:
        u.join()
    sampler.halt.set()
    rss_after = rss_mb(server.pid)
    server.stop()
    cap = cap_mb * 2**20
    upload = max(sizes or [0])
    peak = max(sampler.samples or [0])
    over = sum(s > cap for s in sampler.samples)
    races = sum(t["races"] for t in tallies)
    finished = sum(t["done"] for t in tallies)
    errors = [e for t in tallies for e in t["errors"]]
    # An upload with no room under the cap is refused at the door (HTTP 507 and a sentence naming
    # --max-temp-mb): the promise kept, said to the user; anything else is a lost race.
    refused = sum("507" in e for e in errors)  # gradio_client names the status, not the sentence
    checks = {
        f"peak ≤ cap + one upload ({(cap + upload) / 2**20:.2f} MB)": peak <= cap + upload,
        "every race finished done or its upload was refused at the door (507)": finished + refused == races,
    }
    happened = (
        f"--max-temp-mb {cap_mb}, {clients_n} clients × {seconds:.0f} s uploading distinct "
        f"{upload / 2**20:.2f} MB PNGs: {races} races, {finished} done, {refused} uploads refused at the door "
        f"(507: no room under the cap); temp bytes peak "
        f"{peak / 2**20:.2f} MB vs cap {cap_mb} MB, {over}/{len(sampler.samples)} samples over the cap "
        f"(a new upload is on disk before the cap can drop anything, so one upload over it is allowed)"
    )
    return row(
        "disk: --max-temp-mb",
        happened,
        f"before: {base:,} B; after the clean exit: {brief(tree(tmp))}",
        f"{rss_before:.0f} MB",
        f"{rss_after:.0f} MB",
        checks,
        peak_bytes=peak,
        cap_bytes=cap,
        upload_bytes=upload,
        samples=len(sampler.samples),
        samples_over=over,
        races=races,
        finished=finished,
        refused=refused,
        errors=[e for e in errors if "507" not in e][:5],
    )


# ---------------------------------------------------------------- 3. memory


def set_as(pid: int, soft: int) -> None:
    resource.prlimit(pid, resource.RLIMIT_AS, (soft, resource.RLIM_INFINITY))


def fault_memory(work: Path) -> list[dict[str, Any]]:
    tmp = work / "mem-tmp"
    tmp.mkdir()
    big = make_png(work / "big-4000x3000.png", 4000, 3000, noise=False)
    rows = []
    server = Server(tmp, work)
    server.wait_ready()
    try:
        # (a) refused from the estimate
        limit = vm_size(server.pid) + 4 * 2**30
        set_as(server.pid, limit)
        rss_before = rss_mb(server.pid)
        c = client(server.url)
        # max_side 4096 (the app's largest) keeps the 4000 x 3000 picture at full size, as max_side 0 would
        job = submit(c, big, max_side=4096, width=1024, hidden_layers=12, steps=10)
        # A refusal comes before the race starts; a status instead means it was not refused: stop it.
        end = time.monotonic() + 180
        while time.monotonic() < end and not job.done() and not statuses(job):
            time.sleep(0.2)
        if job.done():
            oa = outcome(job, 30)
        else:
            first = statuses(job)
            oa = {"state": first[-1]["state"] if first else None, "status": None, "files": None, "error": None}
            c.predict(api_name="/stop")
            outcome(job, 120)
        alive = server.alive()
        other = outcome(submit(c, PRESET, steps=30), 180) if alive else {"state": None, "error": "server gone"}
        c.close()
        msg = oa["error"] or ""
        checks = {
            "the call failed with 'needs about'": "needs about" in msg,
            "the message names max_side": "max_side" in msg,
            "the server stayed up": alive and server.alive(),
            "another race completed": done(other),
        }
        rows.append(
            row(
                "memory: refused",
                f"RLIMIT_AS {limit / 2**30:.1f} GiB; 4000×3000 upload, width 1024, 12 "
                f"layers: {msg[:200] or 'not refused: the race was ' + str(oa['state']) + ' (stopped)'}; then a small race {other['state'] or other['error']}",
                "—",
                f"{rss_before:.0f} MB",
                f"{rss_mb(server.pid):.0f} MB" if server.alive() else "gone",
                checks,
                message=msg,
            )
        )
        server.stop()  # a fresh server for (b), so its memory is not (a)'s
        server = Server(tmp, work)
        server.wait_ready()

        # (b) out of memory mid-training
        time.sleep(2)
        rss_before = rss_mb(server.pid)
        cb, cv = client(server.url), client(server.url)
        b = submit(cb, PRESET, steps=500)
        wait_running(b)
        floor = vm_size(server.pid)
        v = submit(cv, PRESET2, max_side=512, width=256, hidden_layers=4, ratio=1.0, steps=2000)
        ran = wait_running(v)
        rss_peak = rss_mb(server.pid)
        # "current + 256 MB" with current read before the victim began: read while it trains, VmSize
        # swings by its step's temporaries (freed back to the system between steps), so the limit would
        # depend on the moment it was read
        limit = floor + 256 * 2**20
        set_as(server.pid, limit)
        say(f"memory: victim running {ran}; RLIMIT_AS lowered to {limit / 2**30:.2f} GiB")
        ov = outcome(v, 300)
        set_as(server.pid, resource.RLIM_INFINITY)
        ob = outcome(b, 300)
        for cl in (cb, cv):
            cl.close()
        time.sleep(10)  # the session's lease: a client's session closes ~5 s after its last question
        rss_after = rss_mb(server.pid)
        status = ov["status"] or {}
        err = status.get("error") or ov["error"] or ""
        checks = {
            "the race ended in state error": ov["state"] == "error",
            f"its error starts {OOM_PREFIX!r}": str(err).startswith(OOM_PREFIX),
            "the bystander finished done": done(ob),
            "the server stayed up": server.alive(),
        }
        rows.append(
            row(
                "memory: ran out mid-training",
                f"RLIMIT_AS lowered to VmSize+256 MB ({limit / 2**30:.2f} GiB) while a 512-px 4×256 race "
                f"trained: {ov['state']} {str(err)[:160]!r}; bystander {ob['state'] or ob['error']}",
                "—",
                f"{rss_before:.0f} MB before Start ({rss_peak:.0f} MB training)",
                f"{rss_after:.0f} MB after the clients left",
                checks,
                error=str(err),
                rss_before_mb=round(rss_before, 1),
                rss_after_mb=round(rss_after, 1),
            )
        )
    finally:
        server.stop()

    # (c) the command line under ulimit -v
    out = work / "cli-out"
    cmd = (
        f"ulimit -v 4000000; exec {sys.executable} -m intcore fit {big} --max-side 4096 --width 1024 "
        f"--hidden-layers 12 --steps 10 --device cpu --out {out} --quiet"
    )
    p = subprocess.run(
        ["bash", "-c", cmd],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = p.stderr.strip().splitlines()
    checks = {
        "exit code 2": p.returncode == 2,
        "exactly one line on stderr": len(lines) == 1,
        "it says 'needs about'": "needs about" in p.stderr,
    }
    rows.append(
        row(
            "memory: CLI",
            f"`intcore fit` 4000×3000 --max-side 4096 (full size) --width 1024 --hidden-layers 12 under "
            f"ulimit -v 4000000: exit {p.returncode}, stderr {p.stderr.strip()[-240:]!r}",
            "—",
            "—",
            "—",
            checks,
            returncode=p.returncode,
            stderr=p.stderr[-2000:],
        )
    )
    return rows


# ---------------------------------------------------------------- 4. clients that vanish


def browser_cycle(browser, url: str, reset: bool) -> bool:
    """One page that starts a race and leaves (after Reset, or not); whether the page showed it running."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.set_default_timeout(90_000)
    try:
        # A link sets the tab's settings: a 16-px picture and a 1 x 8 SIREN, so the race is small.
        page.goto(f"{url}?tab=image&preset=camera&samplers=int,full&max_side=16&width=8&hidden_layers=1&steps=100000")
        page.wait_for_selector("#start", timeout=60_000)
        page.wait_for_selector("#picture img", timeout=60_000)
        end = time.monotonic() + 10
        while time.monotonic() < end and page.evaluate(
            "() => document.querySelector('#max-side input')?.value ?? ''"
        ) not in ("16", ""):
            page.wait_for_timeout(100)
        page.click("#start")
        end = time.monotonic() + 30
        while time.monotonic() < end and "Running" not in page.inner_text("#status-text"):
            page.wait_for_timeout(200)
        running = "Running" in page.inner_text("#status-text")
        if reset:
            page.click("#reset")
            page.wait_for_timeout(300)
        return running
    finally:
        page.close()


def client_cycle(url: str) -> bool:
    """One client that starts a race, reads one update and leaves; whether it got that update."""
    c = client(url)
    job = submit(c, PRESET, steps=100_000)
    end = time.monotonic() + 60
    while time.monotonic() < end and not statuses(job) and not job.done():
        time.sleep(0.1)
    got = bool(statuses(job))
    c.close()  # leaves mid-race, as a script that dies would
    return got


def settle(server: Server, tmp: Path, base_fds: int, timeout: float = 60.0) -> dict[str, Any]:
    """Wait (up to `timeout`) until no race thread, no session folder and the open files at the baseline."""
    from soak import poke

    end = time.monotonic() + timeout
    next_poke = time.monotonic() + 11
    while True:
        names = server.thread_names()
        state = {
            "race_threads": python_threads(names),
            "session_folders": len(session_folders(tmp)),
            "open_files": proc_stats(server.pid)["open_files"],
            "threads": len(names),
            "idle_anyio": names.count(IDLE_ANYIO),
        }
        if (
            not state["race_threads"] and not state["session_folders"] and state["open_files"] <= base_fds
        ) or time.monotonic() > end:
            return state
        if time.monotonic() > next_poke:
            poke(server.url)
            next_poke = time.monotonic() + 11
        time.sleep(1)


def fault_vanish(work: Path, total: int, rss_growth_mb: float) -> dict[str, Any]:
    from soak import poke

    tmp = work / "vanish-tmp"
    tmp.mkdir()
    server = Server(tmp, work)
    server.wait_ready()
    browser = pw = None
    try:
        # one race to its end first, so what a server creates once (pools, caches) is in the baseline
        warm = client(server.url)
        warmed = outcome(submit(warm, PRESET, steps=40), 180)["state"]
        warm.close()
        time.sleep(11)
        poke(server.url)
        time.sleep(1)
        base = proc_stats(server.pid)
        base_names = server.thread_names()
        trail = [(0, round(base["rss_mb"], 1))]
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        problems: list[str] = []
        kinds = {"browser": 0, "client": 0}
        started = {"browser": 0, "client": 0}
        for i in range(1, total + 1):
            kind = "browser" if i % 2 else "client"
            try:
                if kind == "browser":
                    ok = browser_cycle(browser, server.url, reset=(i // 2) % 2 == 0)
                else:
                    ok = client_cycle(server.url)
                kinds[kind] += 1
                started[kind] += ok
            except Exception as exc:  # noqa: BLE001
                problems.append(f"cycle {i} ({kind}): {type(exc).__name__}: {str(exc)[:160]}")
            if i % 20 == 0 or i == total:
                trail.append((i, round(rss_mb(server.pid), 1)))
                say(f"vanish {i}/{total}: RSS {trail[-1][1]} MB, threads {proc_stats(server.pid)['threads']}")
        browser.close()
        browser = None
        pw.stop()
        pw = None
        time.sleep(10)  # the sessions' lease and the pages' heartbeat
        final = settle(server, tmp, base["open_files"])
        rss_end = rss_mb(server.pid)
        trail.append(("settled", round(rss_end, 1)))
    finally:
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()
        server.stop()
    first_sampled = trail[1][1] if len(trail) > 2 else trail[0][1]
    growth = rss_end - first_sampled
    checks = {
        "no race thread alive (int-race-*)": not final["race_threads"],
        "no session folder left": final["session_folders"] == 0,
        "open files back at the baseline": final["open_files"] <= base["open_files"],
        f"RSS flat: settled ≤ first sample + {rss_growth_mb:.0f} MB": growth <= rss_growth_mb,
        "the warm-up race finished done": warmed == "done",
        "every cycle ran without an error": not problems,
        "every race was seen running (pages) or streaming (clients) before its client left": started == kinds,
    }
    happened = (
        f"{kinds['browser']} Chromium pages (half Reset first; {started['browser']} saw it running) and "
        f"{kinds['client']} gradio_client clients ({started['client']} got an update) left mid-race; RSS trail (cycle: MB) {', '.join(f'{a}: {b:.0f}' for a, b in trail)}; threads "
        f"{base['threads']} → {final['threads']} ({final['idle_anyio']} idle anyio workers), open files "
        f"{base['open_files']} → {final['open_files']}; race threads left: {final['race_threads'] or 'none'}"
        + (f"; problems: {problems[:3]}" if problems else "")
    )
    return row(
        "vanish",
        happened,
        f"{final['session_folders']} session folders; TMPDIR after the clean exit: {brief(tree(tmp))}",
        f"{base['rss_mb']:.0f} MB (baseline after a warm-up race)",
        f"{rss_end:.0f} MB",
        checks,
        rss_trail=trail,
        problems=problems[:20],
        final=final,
        baseline={**base, "names": base_names},
    )


# ---------------------------------------------------------------- 5. many clients at once


def fault_load(work: Path, clients_n: int, max_jobs: int, rss_bound_mb: float) -> dict[str, Any]:
    tmp = work / "load-tmp"
    tmp.mkdir()
    server = Server(tmp, work, "--max-jobs", str(max_jobs))
    server.wait_ready()
    try:
        rss_before = rss_mb(server.pid)
        sampler = Sampler(lambda: rss_mb(server.pid), 0.5)
        sampler.start()
        results: list[dict[str, Any]] = [{} for _ in range(clients_n)]
        go = threading.Barrier(clients_n)

        def user(i: int) -> None:
            r = results[i]
            r.update(first=None, positions=[], state=None, error=None)
            try:
                c = client(server.url)
                go.wait(120)
                t = time.monotonic()
                job = submit(c, PRESET, steps=400)  # about 5 s alone on this 2-core machine
                seen = 0
                while True:
                    finished = job.done()
                    s = statuses(job)
                    for st in s[seen:]:
                        if r["first"] is None:
                            r["first"] = time.monotonic() - t
                        if st["state"] == "queued":
                            r["positions"].append(st.get("queue_position"))
                    seen = len(s)
                    if finished:
                        break
                    time.sleep(0.1)
                o = outcome(job, 60)
                r["state"], r["error"] = o["state"], o["error"]
                r["seconds"] = time.monotonic() - t
                c.close()
            except Exception as exc:  # noqa: BLE001
                r["error"] = f"{type(exc).__name__}: {exc}"

        users = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients_n)]
        for u in users:
            u.start()
        for u in users:
            u.join(900)
        sampler.halt.set()
        time.sleep(10)
        rss_after = rss_mb(server.pid)
    finally:
        server.stop()
    peak = max(sampler.samples or [rss_before])
    finished = sum(r.get("state") == "done" for r in results)
    most = clients_n - max_jobs
    bad_pos = [
        (i, r["positions"])
        for i, r in enumerate(results)
        if any(p is None or not 1 <= p <= most for p in r["positions"])
        or any(b > a for a, b in zip(r["positions"], r["positions"][1:]))
    ]
    firsts = [r["first"] for r in results if r.get("first") is not None]
    checks = {
        f"{clients_n}/{clients_n} finished done": finished == clients_n,
        "none lost (every client got a first answer)": len(firsts) == clients_n,
        f"queue positions within 1..{most} and never rose": not bad_pos,
        f"peak RSS ≤ baseline + {rss_bound_mb:.0f} MB": peak - rss_before <= rss_bound_mb,
    }
    happened = (
        f"{clients_n} clients at once on --max-jobs {max_jobs}: {finished} done; first answer "
        f"{min(firsts or [0]):.1f}–{max(firsts or [0]):.1f} s; longest race from submit "
        f"{max(r.get('seconds', 0) for r in results):.0f} s; highest queue position seen "
        f"{max((p for r in results for p in r['positions'] if p is not None), default=0)}"
        + (f"; bad positions: {bad_pos[:3]}" if bad_pos else "")
        + (
            f"; errors: {[r['error'] for r in results if r.get('error')][:3]}"
            if any(r.get("error") for r in results)
            else ""
        )
    )
    return row(
        "load",
        happened,
        f"TMPDIR after the clean exit: {brief(tree(tmp))}",
        f"{rss_before:.0f} MB",
        f"peak {peak:.0f} MB, {rss_after:.0f} MB 10 s after",
        checks,
        peak_rss_mb=round(peak, 1),
        clients=[{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in results],
    )


# ---------------------------------------------------------------- the report


def machine() -> dict[str, Any]:
    mem = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    return {
        "cpus": os.cpu_count(),
        "ram_gb": round(mem / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def table(rows: list[dict[str, Any]], where: dict[str, Any]) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [
        f"Machine: {where['cpus']} CPUs, {where['ram_gb']} GB RAM, Linux {where['kernel']}, Python "
        f"{where['python']}; started {where['date_utc']}, ended {where.get('ended_utc', '?')}; load average "
        f"{where['load_average'][0]} before, {where.get('load_average_after', ['?'])[0]} after (1-min).",
        "",
        "| fault | what happened | leftovers | memory before | memory after | pass |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = "PASS" if r["passed"] else "FAIL: " + "; ".join(k for k, ok in r["checks"].items() if not ok)
        lines.append(
            f"| {esc(r['fault'])} | {esc(r['happened'])} | {esc(r['leftovers'])} | {esc(r['memory_before'])} "
            f"| {esc(r['memory_after'])} | {esc(verdict)} |"
        )
    return "\n".join(lines)


FAULTS = ("kill", "disk", "memory", "vanish", "load")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(FAULTS), help=f"comma-separated faults (default all: {','.join(FAULTS)})")
    p.add_argument("--cycles", type=int, default=10, help="kill: kill -9 / restart cycles (default 10)")
    p.add_argument("--clients", type=int, default=20, help="load: clients at once (default 20)")
    p.add_argument("--max-jobs", type=int, default=2, help="load: the server's --max-jobs (default 2)")
    p.add_argument("--vanish", type=int, default=200, help="vanish: clients that leave mid-race (default 200)")
    p.add_argument("--cap-seconds", type=float, default=40, help="disk: seconds of the --max-temp-mb load (default 40)")
    p.add_argument(
        "--vanish-rss-mb",
        type=float,
        default=100,
        help="vanish: allowed RSS growth from the first sample (cycle 20) to the end (default 100)",
    )
    p.add_argument(
        "--load-rss-mb", type=float, default=1024, help="load: allowed peak RSS over the baseline (default 1024)"
    )
    p.add_argument("--json-out", type=Path, help="also write the result here")
    args = p.parse_args(argv)
    only = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(only) - set(FAULTS)
    if unknown:
        p.error(f"unknown fault(s): {', '.join(sorted(unknown))}")

    # `kill` (SIGTERM) ends the benchmark through its `finally`s: servers stopped, the tmpfs unmounted
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    atexit.register(stop_all)
    where = machine()
    work = Path(tempfile.mkdtemp(prefix="int-faults-"))
    say(f"working in {work}")
    rows: list[dict[str, Any]] = []
    runs = {
        "kill": lambda: [fault_kill(work, args.cycles)],
        "disk": lambda: [fault_disk(work, args.cap_seconds), fault_temp_cap(work, args.cap_seconds)],
        "memory": lambda: fault_memory(work),
        "vanish": lambda: [fault_vanish(work, args.vanish, args.vanish_rss_mb)],
        "load": lambda: [fault_load(work, args.clients, args.max_jobs, args.load_rss_mb)],
    }
    for fault in FAULTS:
        if fault not in only:
            continue
        say(f"{fault} ...")
        try:
            rows += runs[fault]()
        except Exception as exc:  # noqa: BLE001 (one fault's crash is its row, the others still run)
            rows.append(
                row(
                    fault,
                    f"the benchmark itself failed: {type(exc).__name__}: {exc}",
                    "—",
                    "—",
                    "—",
                    {"ran to the end": False},
                )
            )
        say(f"{fault}: {'PASS' if all(r['passed'] for r in rows if r['fault'].startswith(fault)) else 'FAIL'}")
    where["ended_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    where["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result = {"machine": where, "faults": rows, "passed": all(r["passed"] for r in rows), "workdir": str(work)}
    print(table(rows, where))
    print()
    line = json.dumps(result, default=str)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1, default=str))
    print(line)
    if result["passed"]:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"kept {work} (the servers' logs)")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
