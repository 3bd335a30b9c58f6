"""A server killed with SIGKILL: the next start deletes what it left, and the two never share a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import ROOT
from test_hostile_security import start_demo, wait_until_listening

from demo.server.workspace import Workspace, remove_dead, user_root

HOLD = (
    "import sys, time; sys.path.insert(0, {root!r}); from pathlib import Path; "
    "from demo.server.workspace import Workspace; w = Workspace.claim(Path({base!r})); "
    "(w.sessions / 'a-session-file').write_bytes(b'x' * 1000); print(w.folder, flush=True); time.sleep(600)"
)


def hold_workspace(base: Path) -> tuple[subprocess.Popen, Path]:
    """Another process that claims a workspace under `base`, writes a file and sleeps: (process, its folder)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(root=str(ROOT), base=str(base))], stdout=subprocess.PIPE, text=True
    )
    return proc, Path(proc.stdout.readline().strip())


def test_a_start_deletes_the_folders_of_killed_servers_and_keeps_the_living_ones(tmp_path):
    dead, dead_folder = hold_workspace(tmp_path)
    alive, alive_folder = hold_workspace(tmp_path)
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        assert dead_folder.is_dir()  # SIGKILL leaves it
        mine = Workspace.claim(tmp_path)
        try:
            assert mine.removed == [dead_folder] and not dead_folder.exists()
            assert alive_folder.is_dir() and (alive_folder / "sessions" / "a-session-file").exists()
            assert mine.folder not in (dead_folder, alive_folder) and mine.folder.parent == alive_folder.parent
        finally:
            mine.release()
        assert not mine.folder.exists() and alive_folder.is_dir()  # the root stays: another server uses it
    finally:
        alive.kill()
        alive.wait()
    assert remove_dead(alive_folder.parent) == [alive_folder]


def test_a_folder_killed_before_its_lock_file_existed_is_deleted_by_its_dead_pid(tmp_path):
    root = user_root(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    half = root / f"run-{proc.pid}-abc123"
    half.mkdir(parents=True)
    living = root / f"run-{os.getpid()}-def456"  # this process is alive: without a lock it is left alone
    living.mkdir()
    assert remove_dead(root) == [half] and living.is_dir()


def test_a_clean_exit_deletes_its_folder_and_the_empty_root(tmp_path):
    workspace = Workspace.claim(tmp_path)
    assert workspace.root == tmp_path / f"int-studio-{os.getuid()}"
    assert {p.name for p in workspace.folder.iterdir()} == {"lock", "sessions", "uploads"}
    workspace.release()
    assert list(tmp_path.iterdir()) == []


def test_a_root_that_is_not_this_users_folder_is_not_used(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / f"int-studio-{os.getuid()}").symlink_to(elsewhere)  # e.g. planted in a shared /tmp
    workspace = Workspace.claim(tmp_path)
    try:
        assert workspace.root.name.startswith(f"int-studio-{os.getuid()}-") and not workspace.root.is_symlink()
        assert list(elsewhere.iterdir()) == []
    finally:
        workspace.release()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_python_m_demo_after_a_kill_9_serves_at_once_and_deletes_the_dead_servers_files(tmp_path):
    first, port, temp = start_demo(tmp_path)
    try:
        wait_until_listening(first, port, every=0.2)
        root = temp / f"int-studio-{os.getuid()}"
        (dead_run,) = root.iterdir()
        (dead_run / "uploads" / "left-behind.png").write_bytes(b"x" * 100_000)
    finally:
        first.kill()  # SIGKILL: no clean-up runs
        first.communicate(timeout=60)
    assert dead_run.is_dir()
    again_dir = tmp_path / "again"
    again_dir.mkdir()
    second, port, _ = start_demo(again_dir, temp=temp)
    try:
        begun = time.monotonic()
        wait_until_listening(second, port, every=0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/config", timeout=30).status_code == 200
        assert time.monotonic() - begun < 60
        (run,) = root.iterdir()
        assert run != dead_run and run.name.startswith(f"run-{second.pid}-")
    finally:
        second.terminate()
        output = second.communicate(timeout=60)[0]
    assert second.returncode == 0 and list(temp.iterdir()) == [], output
