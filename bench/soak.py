"""Soak test: many users racing at once for minutes, through the app's public API (gradio_client).

Each of N simulated users loops until the time is up: picks a random tab, preset and settings, starts a
race and, at random, lets it finish, presses Pause (and later Resume), Stop or Reset, or leaves mid-race
(closes its client, as a closed tab does) and comes back as a new user. Meanwhile the server's RSS,
threads, open files, the bytes in its session folder (and, with an in-process server on CUDA, the GPU
memory) are sampled every second.

Checked for every update a user receives: it is about that user's own race (the job id of its stream,
its preset, its samplers), steps never go back, a queued race's position is between 1 and the number of
users that can be ahead and never rises, and no update carries an error. When everyone has left, the
threads (by name, idle workers of anyio's pool aside: bench/soak_server.py), open files and temp bytes
must return to their baseline, and RSS may grow at most
`--rss-growth-mb` after the first round (every user's first race finished).

    python bench/soak.py --sessions 5 --minutes 10 --max-jobs 2        # starts `python -m demo` itself
    python bench/soak.py --sessions 3 --seconds 40 --in-process         # the CI version (tests/test_soak.py)

Prints a table (markdown) and, last, one JSON line; exit code 0 when every check passed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from soak_server import IDLE_ANYIO, thread_names, threads_left_over  # noqa: E402

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")

PREFIX = {"image": "", "audio": "audio-", "shape": "shape-"}
SIZES = {"image": [16, 24, 32], "audio": [0.05, 0.1], "shape": [8, 10]}
FIRST_W0 = {"image": 30, "audio": 3000, "shape": 30}


# ---------------------------------------------------------------- the server's vital signs


def proc_stats(pid: int) -> dict[str, float]:
    """RSS (MB), threads and open files of process `pid`, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "threads": int(fields["Threads"]),
            "open_files": len(os.listdir(f"/proc/{pid}/fd"))}


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder` (files and folders that vanish while counting are skipped)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


class Sampler(threading.Thread):
    """Samples the server every `every` seconds until stopped."""

    def __init__(self, pid: int, workdir: Path, every: float = 1.0, cuda: bool = False,
                 uploads: Path | None = None) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.pid, self.workdir, self.every, self.cuda, self.uploads = pid, workdir, every, cuda, uploads
        self.samples: list[dict[str, float]] = []
        self.halt = threading.Event()
        self.t0 = time.monotonic()

    def sample(self) -> dict[str, float]:
        s = {"t": time.monotonic() - self.t0, **proc_stats(self.pid), "temp_bytes": folder_bytes(self.workdir)}
        if self.uploads is not None:
            s["upload_bytes"] = folder_bytes(self.uploads)
        if self.cuda:
            import torch

            s["gpu_mb"] = torch.cuda.memory_allocated() / 2**20
        return s

    def run(self) -> None:
        while not self.halt.wait(self.every):
            if not Path(f"/proc/{self.pid}").exists():
                return
            try:
                self.samples.append(self.sample())
            except OSError:  # the process ended between the check and the read
                pass


# ---------------------------------------------------------------- one simulated user


@dataclass
class Tally:
    races: int = 0
    finished: int = 0
    stopped: int = 0
    reset: int = 0
    left: int = 0
    paused: int = 0
    updates: int = 0
    queued_updates: int = 0
    first_round_done: bool = False
    stop_seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class User(threading.Thread):
    """One simulated user racing random presets and settings until `deadline`."""

    def __init__(self, index: int, url: str, deadline: float, sessions: int, max_jobs: int, seed: int,
                 presets: dict[str, list[Path]], samplers: dict[str, list[str]], auth: tuple[str, str] | None) -> None:
        super().__init__(name=f"soak-user-{index}", daemon=True)
        self.index, self.url, self.deadline = index, url, deadline
        self.most_ahead = max(0, sessions - max_jobs)
        self.rng = random.Random(seed * 1000 + index)
        self.presets, self.samplers, self.auth = presets, samplers, auth
        self.tally = Tally()
        self.client = None

    def connect(self):
        from gradio_client import Client

        self.client = Client(self.url, verbose=False, download_files=False, auth=self.auth)

    def run(self) -> None:
        try:
            self.connect()
            while True:  # at least one race, however short the soak
                self.race()
                if time.monotonic() >= self.deadline:
                    break
        except Exception as exc:  # noqa: BLE001 (anything a user meets is a finding)
            self.tally.problems.append(f"user {self.index}: {type(exc).__name__}: {exc}")
        finally:
            if self.client is not None:
                self.client.close()

    def race(self) -> None:
        try:
            self._race()
        finally:
            self.tally.first_round_done = True

    def _race(self) -> None:
        from gradio_client import handle_file

        rng, tally = self.rng, self.tally
        modality = rng.choice(list(self.presets))
        preset = rng.choice(self.presets[modality])
        names = rng.sample(self.samplers[modality], rng.choice([2, 3]))
        size = {"image": "max_side", "audio": "max_seconds", "shape": "grid"}[modality]
        settings = dict(picture=handle_file(str(preset)), samplers=",".join(names), ratio=rng.choice([0.1, 0.2, 0.3]),
                        steps=rng.choice([40, 80, 160]), lr=1e-3, width=rng.choice([8, 16]),
                        hidden_layers=rng.choice([1, 2]), first_w0=FIRST_W0[modality], seed=rng.randrange(1000),
                        eval_every=5, target=0, **{size: rng.choice(SIZES[modality])})
        plan = rng.choices(["finish", "pause", "stop", "reset", "leave"], weights=[4, 2, 2, 1, 1])[0]
        act_after = rng.uniform(0.5, 4.0)
        job = self.client.submit(**settings, api_name=f"/{PREFIX[modality]}compare")
        tally.races += 1
        seen: dict[str, Any] = {"job": None, "steps": {}, "position": None}
        started, acted, stop_pressed = time.monotonic(), False, None
        while True:
            done = job.done()
            statuses = [o[0] for o in job.outputs() if isinstance(o, (list, tuple)) and isinstance(o[0], dict)]
            for status in statuses[seen.get("checked", 0):]:
                self.check(status, seen, preset, names)
            seen["checked"] = len(statuses)
            last = statuses[-1] if statuses else None
            if done:
                break
            running = last is not None and last["state"] == "running" and any(
                r["step"] > 0 for r in last["samplers"].values())
            if not acted and running and time.monotonic() - started > act_after:
                acted = True
                if plan == "pause":
                    self.client.predict(api_name=f"/{PREFIX[modality]}pause")
                    tally.paused += 1
                    time.sleep(rng.uniform(0.5, 2.0))
                    self.client.predict(api_name=f"/{PREFIX[modality]}pause")
                elif plan == "stop":
                    stop_pressed = time.monotonic()
                    self.client.predict(api_name=f"/{PREFIX[modality]}stop")
                elif plan == "reset":
                    self.client.predict(api_name=f"/{PREFIX[modality]}reset")
                    tally.reset += 1
                    time.sleep(0.5)
                    job.cancel()
                    break
                elif plan == "leave":
                    tally.left += 1
                    self.client.close()
                    self.connect()
                    break
            if time.monotonic() > self.deadline + 60:
                tally.problems.append(f"user {self.index}: a race outlived the soak by a minute")
                break
            time.sleep(0.1)
        if not job.done():
            return
        try:
            final = job.result(timeout=30)
        except Exception as exc:  # noqa: BLE001
            if plan != "reset":
                tally.problems.append(f"user {self.index}: the race ended with an error: {exc}")
            return
        status = final[0] if isinstance(final, (list, tuple)) else None
        if isinstance(status, dict):
            self.check(status, seen, preset, names)
            if status["state"] == "done":
                tally.finished += 1
            elif status["state"] == "stopped":
                tally.stopped += 1
                if stop_pressed is not None:
                    tally.stop_seconds.append(time.monotonic() - stop_pressed)

    def check(self, status: dict, seen: dict, preset: Path, names: list[str]) -> None:
        """Every update: this user's own race, steps that never go back, a sane queue position, no error."""
        tally, who = self.tally, f"user {self.index}"
        tally.updates += 1
        if seen["job"] is None:
            seen["job"] = status["race"]
        if status["race"] != seen["job"]:
            tally.problems.append(f"{who}: an update of race {status['race']} in the stream of race {seen['job']}")
        if status["signal"]["name"] != preset.stem or list(status["samplers"]) != names:
            tally.problems.append(f"{who}: an update about {status['signal']['name']} / {list(status['samplers'])}, "
                                  f"not its own {preset.stem} / {names}")
        for m, r in status["samplers"].items():
            if r["step"] < seen["steps"].get(m, 0):
                tally.problems.append(f"{who}: {m}'s step went back from {seen['steps'][m]} to {r['step']}")
            seen["steps"][m] = r["step"]
        position = status.get("queue_position")
        if status["state"] == "queued":
            tally.queued_updates += 1
            if position is None or not 1 <= position <= self.most_ahead:
                tally.problems.append(f"{who}: queue position {position} outside 1..{self.most_ahead}")
            elif seen["position"] is not None and position > seen["position"]:
                tally.problems.append(f"{who}: queue position rose from {seen['position']} to {position}")
            seen["position"] = position
        elif position is not None:
            tally.problems.append(f"{who}: a {status['state']} race with queue position {position}")
        if status.get("error"):
            tally.problems.append(f"{who}: error: {status['error']}")


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(max_jobs: int, workdir: Path, in_process: bool, max_temp_mb: int = 2048):
    """(url, pid, stop function, thread-names function, upload cache or None); the server is this process
    (in_process; Gradio's cache is then whatever GRADIO_TEMP_DIR says, not measured) or `python -m demo`
    (through bench/soak_server.py, which tells its thread names on SIGUSR1) with an upload cache of its own."""

    port = free_port()
    if in_process:
        from demo.ui.app import build_app, launch_in_background

        app = build_app(device="cpu", max_jobs=max_jobs, workdir=workdir)
        app.session_table.max_temp_bytes = max_temp_mb * 2**20
        url = launch_in_background(app)

        def stop() -> None:
            app.close()
            app.session_table.shutdown()

        return url, os.getpid(), stop, thread_names, None
    names_file = workdir.parent / f"{workdir.name}-threads.json"
    uploads = workdir.parent / f"{workdir.name}-uploads"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_HEARTBEAT_INTERVAL": "1", "INT_SOAK_THREADS": str(names_file)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "soak_server.py"), "--port", str(port), "--max-jobs", str(max_jobs),
                             "--max-temp-mb", str(max_temp_mb),
                             "--device", "cpu", "--workdir", str(workdir), "--upload-dir", str(uploads)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=open(workdir.parent / f"{workdir.name}-server.log", "w"))
    url = f"http://127.0.0.1:{port}/"
    import httpx

    end = time.monotonic() + 300
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"python -m demo exited with code {proc.returncode} "
                               f"(its output: {workdir.parent / f'{workdir.name}-server.log'})")
        try:
            if httpx.get(f"{url}config", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)

    def stop() -> None:
        proc.terminate()
        proc.wait(60)
        names_file.unlink(missing_ok=True)
        shutil.rmtree(uploads, ignore_errors=True)

    def server_thread_names() -> list[str]:
        names_file.unlink(missing_ok=True)
        proc.send_signal(signal.SIGUSR1)
        end = time.monotonic() + 10
        while time.monotonic() < end and not names_file.exists():
            time.sleep(0.1)
        return json.loads(names_file.read_text()) if names_file.exists() else ["(the server did not answer)"]

    return url, proc.pid, stop, server_thread_names, uploads


def run_users(url: str, sessions: int, seconds: float, max_jobs: int, seed: int,
              on_first_round=lambda: None) -> list[Tally]:
    """Start the simulated users against `url` and wait for them all to finish; `on_first_round` is
    called once every user has finished its first race."""
    from intcore.modalities import get_modality
    from intcore.samplers import SAMPLERS

    presets = {m: sorted(p for p in (ROOT / "assets" / d).iterdir() if p.suffix.lower() in get_modality(m).extensions)
               for m, d in (("image", "images"), ("audio", "audio"), ("shape", "shapes"))}
    samplers = {m: [n for n in SAMPLERS.names() if SAMPLERS[n].applies_to(m)] for m in presets}
    deadline = time.monotonic() + seconds
    users = [User(i, url, deadline, sessions, max_jobs, seed, presets, samplers, None) for i in range(sessions)]
    for u in users:
        u.start()
    told = False
    while any(u.is_alive() for u in users):
        if not told and all(u.tally.first_round_done for u in users):
            told = True
            on_first_round()
        time.sleep(0.5)
    for u in users:
        u.join()
    if not told:
        on_first_round()
    return [u.tally for u in users]


def users_in_child(url: str, sessions: int, seconds: float, max_jobs: int, seed: int,
                   on_first_round) -> list[Tally]:
    """run_users in a child process (so its client threads are not counted as the server's)."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--users-for", url, "--sessions",
                             str(sessions), "--seconds", str(seconds), "--max-jobs", str(max_jobs), "--seed", str(seed)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    tallies: list[Tally] = []
    for line in proc.stdout:
        if line.startswith("FIRST_ROUND"):
            on_first_round()
        elif line.startswith("TALLIES "):
            tallies = [Tally(**t) for t in json.loads(line[len("TALLIES "):])]
    proc.wait()
    if not tallies:
        raise RuntimeError(f"the users' process ended with code {proc.returncode} and no result")
    return tallies


def warm_up(url: str) -> None:
    """One short race through the plain REST API (as curl would run it), to its end. The endpoint's inputs
    are filled by name from its own description (/gradio_api/info), so a new setting cannot shift them; a
    race that does not end "done" stops the soak (a silent failure here left the baseline unwarmed)."""
    import httpx

    preset = ROOT / "assets" / "images" / "camera.png"
    with open(preset, "rb") as fh:
        path = httpx.post(f"{url}gradio_api/upload", files={"files": (preset.name, fh, "image/png")}, timeout=60).json()[0]
    given = {"picture": {"path": path, "meta": {"_type": "gradio.FileData"}}, "samplers": "int,full", "steps": 10,
             "lr": 1e-3, "width": 8, "hidden_layers": 1, "eval_every": 5, "max_side": 16, "seed": 0}
    params = httpx.get(f"{url}gradio_api/info", timeout=60).json()["named_endpoints"]["/compare"]["parameters"]
    data = [given.get(p["parameter_name"], p.get("parameter_default")) for p in params]
    event = httpx.post(f"{url}gradio_api/call/compare", json={"data": data}, timeout=60).json()["event_id"]
    last = ""
    with httpx.stream("GET", f"{url}gradio_api/call/compare/{event}", timeout=300) as r:
        for line in r.iter_lines():
            last = line if line.startswith("data:") else last
    if '"state": "done"' not in last and '"state":"done"' not in last:
        raise RuntimeError(f"the warm-up race did not end done: {last[:300]}")


def poke(url: str) -> None:
    """One harmless request (Stop, for a session that has no job). Gradio runs handlers on anyio's worker
    threads, and anyio retires workers idle for 10 s only when the next handler runs: this is that one."""
    import httpx

    try:
        event = httpx.post(f"{url}gradio_api/call/stop", json={"data": []}, timeout=30).json()["event_id"]
        with httpx.stream("GET", f"{url}gradio_api/call/stop/{event}", timeout=30) as r:
            for _ in r.iter_lines():
                pass
    except (httpx.HTTPError, KeyError, ValueError):
        pass


def settle(sampler: Sampler, baseline: dict[str, float], url: str, names_now, baseline_names: list[str],
           timeout: float = 60.0) -> tuple[dict[str, float], list[str]]:
    """When everyone has left: wait until threads (by name), open files and temp bytes are back at the
    baseline (or `timeout`), poking the server every 11 s so its idle worker threads can retire; the last
    sample and thread names."""
    end = time.monotonic() + timeout
    next_poke = time.monotonic() + 11.0
    poked = False
    last, names = sampler.sample(), names_now()
    while time.monotonic() < end:
        last, names = sampler.sample(), names_now()
        # Idle pool workers are no leak, but the table is plainer once a poke has let them retire.
        if (back_to_baseline(last, baseline) and (poked or last["threads"] <= baseline["threads"])
                and not threads_left_over(baseline_names, names)):
            break
        if time.monotonic() >= next_poke:
            poke(url)
            poked = True
            next_poke = time.monotonic() + 11.0
        time.sleep(1.0)
    return last, names


def quiet_names(names_now, tries: int = 20) -> list[str]:
    """The server's thread names once no pool worker is busy (a worker that has just handed back its result
    is busy until it is back in its queue: a moment); after `tries` readings 0.25 s apart, the last."""
    names = names_now()
    for _ in range(tries):
        if "AnyIO worker thread" not in names:
            break
        time.sleep(0.25)
        names = names_now()
    return names


def back_to_baseline(now: dict[str, float], baseline: dict[str, float]) -> bool:
    """Open files and temp bytes at most the baseline's (threads: threads_left_over)."""
    return now["open_files"] <= baseline["open_files"] and now["temp_bytes"] <= baseline["temp_bytes"]


# ---------------------------------------------------------------- the soak


def soak(sessions: int, seconds: float, max_jobs: int, seed: int = 0, in_process: bool = False,
         rss_growth_mb: float = 200.0, workdir: Path | None = None, max_temp_mb: int = 2048) -> dict[str, Any]:
    """Run the soak; returns the measurements and whether every check passed. The server and the users
    always run in different processes, so the server's numbers are its own."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="int-soak-"))
    load_before = os.getloadavg()
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()

    def say(what: str) -> None:
        print(f"soak: {time.monotonic() - t0:6.1f} s  {what}", file=sys.stderr, flush=True)

    url, pid, stop_server, server_thread_names, uploads = start_server(max_jobs, workdir, in_process, max_temp_mb)
    say(f"server up at {url}")
    cuda = False
    if in_process:
        import torch

        cuda = torch.cuda.is_available()
    sampler = Sampler(pid, workdir, cuda=cuda, uploads=uploads)
    marks: dict[str, dict[str, float]] = {}
    try:
        sampler.start()
        # One race first, so what any server creates once (thread pools, caches) is in the baseline.
        warm_up(url)
        time.sleep(11.0)
        poke(url)  # idle worker threads of the first race retire (see poke)
        baseline = sampler.sample()
        names = {"baseline": quiet_names(server_thread_names)}
        say(f"baseline taken after one warm-up race; {sessions} users racing for {seconds:.0f} s")
        first = lambda: marks.setdefault("first_round", sampler.sample())  # noqa: E731
        if in_process:
            tallies = users_in_child(url, sessions, seconds, max_jobs, seed, first)
        else:
            tallies = run_users(url, sessions, seconds, max_jobs, seed, first)
        say("everyone has left")
        final, names["final"] = settle(sampler, baseline, url, server_thread_names, names["baseline"])
        say("settled")
        sampler.halt.set()
    finally:
        stop_server()
    load_after = os.getloadavg()
    ended = datetime.now(timezone.utc)
    first_round = marks.get("first_round", final)
    samples = [*sampler.samples, first_round, final]
    peak = {k: max(s[k] for s in samples) for k in final if k != "t"}
    problems = [p for t in tallies for p in t.problems]
    total = {k: sum(getattr(t, k) for t in tallies) for k in
             ("races", "finished", "stopped", "reset", "left", "paused", "updates", "queued_updates")}
    stops = [s for t in tallies for s in t.stop_seconds]
    rss_growth = final["rss_mb"] - first_round["rss_mb"]
    left_threads = threads_left_over(names["baseline"], names["final"])
    checks = {
        "no session saw an error or another's data, steps never went back, queue positions right": not problems,
        f"RSS after the first round grew at most {rss_growth_mb:.0f} MB": rss_growth <= rss_growth_mb,
        "threads back to baseline (by name; idle workers of anyio's pool aside)": not left_threads,
        "open files back to baseline": final["open_files"] <= baseline["open_files"],
        "temp bytes back to baseline": final["temp_bytes"] <= baseline["temp_bytes"],
        "every user finished at least one race": all(t.first_round_done for t in tallies),
    }
    return {
        "sessions": sessions, "seconds": seconds, "max_jobs": max_jobs, "max_temp_mb": max_temp_mb,
        "in_process": in_process, "seed": seed,
        "started_utc": started.isoformat(timespec="seconds"), "ended_utc": ended.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        **total,
        "stop_seconds_max": round(max(stops), 2) if stops else None,
        "baseline": baseline, "first_round": first_round, "peak": peak, "final": final,
        "rss_growth_after_first_round_mb": round(rss_growth, 1),
        "problems": problems[:20], "checks": checks, "passed": all(checks.values()),
        "thread_names": names, "threads_left_over": left_threads,
        "idle_anyio_workers": {k: v.count(IDLE_ANYIO) for k, v in names.items()},
    }


def table(result: dict[str, Any]) -> str:
    """The soak's measurements as a markdown table."""
    rows = [("RSS (MB)", "rss_mb", "{:.0f}"), ("threads", "threads", "{:.0f}"), ("open files", "open_files", "{:.0f}"),
            ("temp bytes", "temp_bytes", "{:,.0f}")]
    if "upload_bytes" in result["baseline"]:  # Gradio's upload cache: kept up to 30 min, under --max-temp-mb
        rows.append(("upload cache bytes", "upload_bytes", "{:,.0f}"))
    if "gpu_mb" in result["baseline"]:
        rows.append(("GPU memory (MB)", "gpu_mb", "{:.1f}"))
    lines = ["| server | baseline | after the first round | peak | everyone left |", "|---|---|---|---|---|"]
    for label, key, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(fmt.format(result[w][key]) for w in ("baseline", "first_round", "peak", "final")) + " |")
    r = result
    start, end = datetime.fromisoformat(r["started_utc"]), datetime.fromisoformat(r["ended_utc"])
    cap = "" if r.get("max_temp_mb", 2048) == 2048 else f", --max-temp-mb {r['max_temp_mb']}"
    lines += ["", f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC on {r['cpus']} CPUs, server "
                  f"{'in the soak process' if r['in_process'] else '`python -m demo` in its own process'}, "
                  f"{r['sessions']} users × {r['seconds'] / 60:.1f} min, --max-jobs {r['max_jobs']}{cap}: {r['races']} races ({r['finished']} finished, "
                  f"{r['stopped']} stopped, {r['reset']} reset, {r['left']} left mid-race, {r['paused']} paused and "
                  f"resumed), {r['updates']:,} updates checked ({r['queued_updates']} while queued); slowest Stop "
                  f"{r['stop_seconds_max']} s; RSS {r['rss_growth_after_first_round_mb']:+.0f} MB after the first round; "
                  f"load average {r['load_average_before'][0]} before, "
                  f"{r['load_average_after'][0]} after (1-min).", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in r["checks"].items()]
    lines += [f"  - {p}" for p in r["problems"]]
    if r["threads_left_over"]:
        lines.append(f"  - threads left over: {', '.join(r['threads_left_over'])}")
    idle = r["idle_anyio_workers"]
    lines.append(f"- Idle workers of anyio's thread pool (not leaks: see threads_left_over): {idle['baseline']} at "
                 f"the baseline, {idle['final']} at the end.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=5, help="simulated users at once (default 5)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long the users keep racing (default 10)")
    length.add_argument("--seconds", type=float, help="the same, in seconds")
    p.add_argument("--max-jobs", type=int, default=2, help="the server's --max-jobs (default 2)")
    p.add_argument("--max-temp-mb", type=int, default=2048,
                   help="the server's --max-temp-mb (default 2048; a small one makes the cap act mid-soak)")
    p.add_argument("--seed", type=int, default=0, help="the users' random choices (default 0)")
    p.add_argument("--in-process", action="store_true", help="serve from this process instead of `python -m demo`")
    p.add_argument("--rss-growth-mb", type=float, default=200.0, help="allowed RSS growth after the first round")
    p.add_argument("--json", type=Path, help="also write the result here")
    p.add_argument("--users-for", metavar="URL", help=argparse.SUPPRESS)  # the child process of --in-process
    args = p.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes if args.minutes is not None else 10)
    if args.users_for:
        tallies = run_users(args.users_for, args.sessions, seconds, args.max_jobs, args.seed,
                            lambda: print("FIRST_ROUND", flush=True))
        print("TALLIES " + json.dumps([t.__dict__ for t in tallies]), flush=True)
        return 0
    result = soak(args.sessions, seconds, args.max_jobs, seed=args.seed, in_process=args.in_process,
                  rss_growth_mb=args.rss_growth_mb, max_temp_mb=args.max_temp_mb)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
