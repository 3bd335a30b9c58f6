"""Security defaults: the server serves no file outside its own folders and the presets (whatever path a
request spells), listens on this machine only unless told otherwise (and then says who can use it), opens
no public link unless asked, and can ask for a login.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from helpers import PRESET, ROOT, client_for, need_gradio

gr, gradio_client, httpx = need_gradio("httpx")

from demo.__main__ import build_parser, exposure_notice, is_loopback  # noqa: E402


def outside_files(app, tmp_path: Path) -> list[Path]:
    """Real files the server must never hand out: system files, the code, a file beside the app's folder."""
    beside = app.session_table.root.parent / "beside.txt"
    beside.write_text("secret next to the app's folder")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    return [Path("/etc/passwd"), ROOT / "README.md", ROOT / "demo" / "app.py", beside, secret]


def spellings(url: str, target: Path, inside: Path) -> list[str]:
    """Ways to ask the file routes for `target`: absolute, `../` from a served folder, percent-encoded."""
    up = "../" * len(inside.parts) + str(target).lstrip("/")
    return [
        f"{url}gradio_api/file={target}",
        f"{url}gradio_api/file={inside}/{up}",
        f"{url}gradio_api/file={quote(f'{inside}/{up}', safe='')}",
        f"{url}gradio_api/file={inside}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/{str(target).lstrip('/')}",
        f"{url}gradio_api/file/{target}",
        f"{url}gradio_api/file/{inside}/{up}",
        f"{url}file={target}",
        f"{url}static/{up}",
        f"{url}assets/{up}",
    ]


def test_file_routes_refuse_paths_outside_the_apps_folders(served, tmp_path):
    app, url = served
    table_root = app.session_table.root
    checked = 0
    with httpx.Client(timeout=30) as http:
        for target in outside_files(app, tmp_path):
            for inside in (ROOT / "assets" / "images", table_root):
                for address in spellings(url, target, inside):
                    r = http.get(address)
                    body = r.content
                    assert r.status_code != 200 or (b"secret" not in body and b"root:" not in body
                                                    and b"INT Studio" not in body[:2000]), (address, r.status_code)
                    checked += 1
        # The folders the app does serve still work (so the refusals above are not a dead server).
        assert http.get(f"{url}gradio_api/file={PRESET}").status_code == 200
        session = app.session_table.session("security-test/image")
        (session.folder / "frame.png").write_bytes(PRESET.read_bytes())
        assert http.get(f"{url}gradio_api/file={session.folder / 'frame.png'}").status_code == 200
    assert checked >= 80


def test_a_server_path_given_as_the_picture_is_refused(served, tmp_path):
    """A client that names a server file instead of uploading one gets an error, and no race starts."""
    app, url = served
    client = client_for(url)
    try:
        for target in outside_files(app, tmp_path):
            picture = {"path": str(target), "meta": {"_type": "gradio.FileData"}}
            with pytest.raises(Exception):
                client.predict(picture, 64, api_name="/upload")
            with pytest.raises(Exception):
                client.predict(picture=picture, samplers="int,full", steps=5, lr=1e-3, width=8, hidden_layers=1,
                               seed=0, eval_every=5, max_side=16, api_name="/compare")
        assert app.session_table.running() == []
    finally:
        client.close()


def test_auth_puts_a_login_in_front_of_everything(tmp_path):
    from demo.ui.app import build_app, launch

    app = build_app(device="cpu", max_jobs=1, workdir=tmp_path / "sessions")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launch(app, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True, auth=("teacher", "s3cret"))
    url = f"http://127.0.0.1:{port}/"
    try:
        with httpx.Client(timeout=30) as http:
            assert http.get(f"{url}config").status_code == 401
            assert http.get(f"{url}gradio_api/file={PRESET}").status_code == 401
            r = http.post(f"{url}gradio_api/call/compare", json={"data": []})
            assert r.status_code == 401
        with pytest.raises(Exception):
            gradio_client.Client(url, verbose=False)
        client = client_for(url, auth=("teacher", "s3cret"))
        _picture, notice = client.predict(gradio_client.handle_file(str(PRESET)), 32, api_name="/upload")
        assert "Working size" in notice or "32" in notice
        client.close()
    finally:
        app.close()
        app.session_table.shutdown()


def test_command_line_defaults_are_safe():
    args = build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.share is False and args.auth is None
    assert build_parser().parse_args(["--auth", "a:b:c"]).auth == ("a", "b:c")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")
    assert exposure_notice("127.0.0.1", share=False, auth=False) == []
    wide = exposure_notice("0.0.0.0", share=False, auth=False)
    assert len(wide) == 1 and "anyone who can reach this machine" in wide[0] and "--auth" in wide[0]
    assert "--auth" not in exposure_notice("0.0.0.0", share=False, auth=True)[0]
    assert any("public" in line for line in exposure_notice("127.0.0.1", share=True, auth=False))


@pytest.mark.parametrize("bad", [["--auth", "nopassword"], ["--auth", ":x"], ["--max-jobs", "0"], ["--port", "x"]])
def test_bad_command_line_is_one_line_and_exit_2(bad):
    r = subprocess.run([sys.executable, "-m", "demo", *bad], capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("demo: error:"), r.stderr


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def wait_until_listening(proc: subprocess.Popen, port: int, every: float, timeout: float = 240) -> None:
    """Until `proc` listens on `port` (or `timeout` passes), checking every `every` seconds that it still runs."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not listening_addresses(port):
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(every)


def start_demo(tmp_path: Path, temp: Path | None = None) -> tuple[subprocess.Popen, int, Path]:
    """`python -m demo` on a free local port, its TMPDIR a fresh folder (where it makes its sessions'
    folder and its upload cache) or `temp`: (process, port, that folder)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if temp is None:
        temp = tmp_path / "tmp"
        temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "demo", "--port", str(port), "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                 "TMPDIR": str(temp)})
    return proc, port, temp


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_python_m_demo_listens_on_this_machine_only_opens_no_link_and_leaves_no_files(tmp_path):
    proc, port, temp = start_demo(tmp_path)
    try:
        wait_until_listening(proc, port, every=0.5)
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        assert httpx.get(f"http://127.0.0.1:{port}/config", timeout=30).status_code == 200
        # One folder of this user's, holding this server's own locked folder with its sessions and uploads.
        assert [p.name for p in temp.iterdir()] == [f"int-studio-{os.getuid()}"]
        (run,) = (temp / f"int-studio-{os.getuid()}").iterdir()
        assert run.name.startswith(f"run-{proc.pid}-") and {p.name for p in run.iterdir()} == {
            "lock",
            "sessions",
            "uploads",
        }
    finally:
        proc.terminate()  # SIGTERM, as systemd or docker stop sends it
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and [p.name for p in temp.iterdir() if p.name.startswith("int-studio")] == [], output
    # The output is read after a clean exit (before, SIGTERM killed the server with its output unflushed, so
    # this line checked an empty string). Gradio's own hint "To create a public link, set `share=True`" is
    # no link; the app's exposure notices are its "note:" lines.
    assert "INT Studio on http://127.0.0.1" in output, output
    assert "gradio.live" not in output and "anyone" not in output and "note:" not in output, output


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_sigterm_while_the_server_is_still_starting_also_exits_cleanly(tmp_path):
    """SIGTERM as soon as the port listens, while Gradio's launch() is still checking its own URL: the
    server exits 0 and leaves no folder (it used to die of the KeyboardInterrupt with status -2)."""
    proc, port, temp = start_demo(tmp_path)
    try:
        wait_until_listening(proc, port, every=0.01)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and [p.name for p in temp.iterdir() if p.name.startswith("int-studio")] == [], output
