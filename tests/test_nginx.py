"""Past one machine: deploy/nginx/nn-playground.conf in front of two app servers, on loopback.

Visitors arrive without a cookie, get one from nginx, and every request they make after it (the
page, the websocket, reruns and page changes over it, a reload that opens a new websocket) reaches
the same server; the visitors as a whole are spread over both servers. nginx's access log (the
route cookie and the upstream each request went to) is the witness. Skipped where Debian's nginx
is not installed (`apt-get install nginx-light`), except under CI=true, where .ci/run installs it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from st_client import Session
from test_browser import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "nginx" / "nn-playground.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
VISITORS = 12  # random routes: all twelve on one server of two would happen once in 2,048 runs



@pytest.fixture(autouse=True)
def need_nginx():
    if NGINX is None:
        reason = "needs Debian's nginx (apt-get install nginx-light; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI installs it: a skip there would hide the missing install
        pytest.skip(reason)


@contextmanager
def app_server(port: int):
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=120)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def site(upstreams: list[int], port: int) -> str:
    """The shipped configuration, with these servers and this address in place of compose's."""
    text = CONFIG.read_text()
    servers = "".join(f"server 127.0.0.1:{p};\n    " for p in upstreams)
    text, n_servers = re.subn(r"server app:8501;\n    ", servers, text)
    text, n_listen = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert (n_servers, n_listen) == (1, 1), "the configuration no longer has the shape this test rewrites"
    return text


@contextmanager
def nginx(upstreams: list[int], port: int, tmp: Path):
    (tmp / "site.conf").write_text(site(upstreams, port))
    (tmp / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
    log_format route '$cookie_nnkit_route $upstream_addr $request_uri';
    access_log {tmp}/access.log route;
}}
""")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")])
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=30)  # /_stcore/health through nginx
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def route_cookie(answer) -> str:
    """The "nnkit_route=..." cookie nginx set (Streamlit may set cookies of its own beside it)."""
    cookies = [c.split(";")[0] for c in answer.headers.get_all("Set-Cookie") or []]
    return next(c for c in cookies if c.startswith("nnkit_route="))


def first_visit(url: str) -> str:
    """A browser's first request: the page itself, answered with the route cookie."""
    with urllib.request.urlopen(f"{url}/home", timeout=30) as answer:
        assert answer.status == 200 and b"<html" in answer.read().lower()
        return route_cookie(answer)


async def visit(url: str, cookie: str) -> list[str]:
    """Open Home, rerun it, change to Activations; then reload (a new websocket) onto Regression."""
    headers = {"Cookie": cookie}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/home", headers=headers), timeout=30) as answer:
        assert route_cookie(answer) == cookie  # the route is kept, not drawn again
    problems = []
    async with Session(url, headers) as s:
        await s.open("home")
        await s.open("home")  # a rerun
        await s.open("activations")  # a page change over the same websocket
        assert s.elements
        problems += s.exceptions
    async with Session(url, headers) as s:  # a reload: a new websocket, routed again
        await s.open("regression")
        assert s.elements
        problems += s.exceptions
    return problems


def test_sessions_spread_over_replicas_and_stay_on_theirs(tmp_path):
    ports = [free_port(), free_port()]
    front = free_port()
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(app_server(port))
        url = stack.enter_context(nginx(ports, front, tmp_path))
        with urllib.request.urlopen(f"{url}/nginx-health", timeout=10) as answer:
            assert answer.read() == b"ok\n"
        cookies = [first_visit(url) for _ in range(VISITORS)]
        assert len(set(cookies)) == VISITORS  # every visitor a route of their own

        async def everyone():
            return await asyncio.gather(*(visit(url, c) for c in cookies))

        assert all(problems == [] for problems in asyncio.run(everyone()))
        time.sleep(0.5)  # nginx logs a websocket when it closes
    served_by = defaultdict(set)
    streams = defaultdict(int)
    for line in (tmp_path / "access.log").read_text().splitlines():
        route, upstream, uri = line.split(" ", 2)
        if route != "-":
            served_by[route].add(upstream)
            streams[route] += uri.startswith("/_stcore/stream")
    routes = {c.split("=", 1)[1] for c in cookies}
    assert set(served_by) == routes
    assert all(streams[r] == 2 for r in routes), streams  # both websockets of each visitor went through
    assert all(len(upstreams) == 1 for upstreams in served_by.values()), served_by  # each stays on its server
    used = {next(iter(upstreams)) for upstreams in served_by.values()}
    assert used == {f"127.0.0.1:{p}" for p in ports}, used  # and the class is spread over both
