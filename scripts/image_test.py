"""The Docker image, built and run for real: `make image-test` (or `python scripts/image_test.py --help`).

No Docker daemon needed: Debian's buildah (`apt-get install buildah mmdebstrap`, run as root) builds the
Dockerfile with vfs storage under --storage and runs the image with chroot isolation (`podman run`
fails in sandboxes that forbid setrlimit). For each variant it:

1. builds the image (`--format docker`: buildah's default OCI format drops the HEALTHCHECK), with the
   host's CA bundle and a pip configuration mounted read-only for the build only, never baked in;
2. checks the image config: a non-root user, the healthcheck, the entrypoint;
3. checks the file system: code root-owned and read-only to the app user, only the data cache
   writable, no tests, benchmarks or docs;
4. starts the image's own entrypoint (on a loopback port of ours: chroot isolation shares the host's
   network) as the image's user, times it to a healthy `/_stcore/health`, runs the image's HEALTHCHECK
   command, checks the server's uid, opens every page in headless Chromium (no exception box);
5. runs `python -m nnkit run classification --set dataset=digits --json` inside the image;
6. reports the image size, the build time and the time to healthy, then deletes its containers and,
   unless --keep, its images and storage.

Where no registry serves the base image (python:3.11-slim), --local-base makes an equivalent one from
Debian's packages with mmdebstrap: Python 3.11 in a venv on PATH, as in the python image.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCAL_BASE = "localhost/nn-playground-base:bookworm"
DEBIAN = ["deb http://deb.debian.org/debian bookworm main",
          "deb http://deb.debian.org/debian bookworm-updates main",
          "deb http://deb.debian.org/debian-security bookworm-security main"]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
NNKIT_RUN = ["python", "-m", "nnkit", "run", "classification", "--set", "dataset=digits", "--json"]
# Run as the image's user: the code is root's and read-only, the data cache is the user's, nothing else
# under /app is; tests, benchmarks and docs are not in the image.
FILE_CHECKS = ("test -w /app/data && ! test -w /app && ! test -w /app/app.py && ! test -w /app/nnkit"
               " && ! test -e /app/tests && ! test -e /app/bench && ! test -e /app/docs"
               " && test -z \"$(find /app -path /app/data -prune -o ! -user root -print)\"")


class Failed(Exception):
    pass


def buildah(storage: Path, *args: str) -> list[str]:
    return ["buildah", "--root", str(storage / "root"), "--runroot", str(storage / "run"),
            "--storage-driver", "vfs", *args]


def base_commands(storage: Path) -> list[list[str]]:
    """mmdebstrap's minimal bookworm with python3 in /opt/venv, as a tarball (then imported)."""
    return [["nice", "mmdebstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates,passwd",
             "--customize-hook=chroot \"$1\" python3 -m venv /opt/venv",
             "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/*",
             "bookworm", str(storage / "base.tar"), *DEBIAN]]


def build_command(storage: Path, tag: str, variant: str, base: str | None, pip_conf: Path,
                  torch_cpu_index: str | None = None) -> list[str]:
    """`buildah bud` of the Dockerfile: the CA bundle and pip's configuration are build-time mounts."""
    args = ["nice", *buildah(storage, "bud", "--format", "docker", "--isolation", "chroot",
                                "--build-arg", f"TORCH_VARIANT={variant}")]
    if base:
        args += ["--build-arg", f"BASE_IMAGE={base}"]
    if torch_cpu_index:
        args += ["--build-arg", f"TORCH_CPU_INDEX={torch_cpu_index}"]
    if Path(CA_BUNDLE).exists():
        args += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    return [*args, "-v", f"{pip_conf}:/etc/pip.conf:ro", "-t", tag, str(ROOT)]


def serve_command(entrypoint: list[str], port: int) -> list[str]:
    """The image's own entrypoint, on a loopback port of ours instead of 0.0.0.0:8501."""
    swapped = [re.sub(r"^--server\.port=\d+$", f"--server.port={port}", a) for a in entrypoint]
    swapped = [re.sub(r"^--server\.address=.*$", "--server.address=127.0.0.1", a) for a in swapped]
    if swapped == entrypoint:
        raise Failed(f"the entrypoint names no --server.port/--server.address to move: {entrypoint}")
    return swapped


def pages() -> list[str]:
    """The url paths app.py navigates to ("" is the home page)."""
    return ["", *re.findall(r'url_path="(\w+)"(?!, default=True)', (ROOT / "app.py").read_text())]


def sh(cmd: list[str], timeout: float | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise Failed(f"{' '.join(cmd[:12])} ... exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def make_base(storage: Path) -> bool:
    """Make LOCAL_BASE unless --storage holds it; says whether it made it."""
    if subprocess.run(buildah(storage, "inspect", "--type", "image", LOCAL_BASE), capture_output=True).returncode == 0:
        return False
    t0 = time.monotonic()
    for cmd in base_commands(storage):
        sh(cmd)
    ctr = sh(buildah(storage, "from", "scratch")).strip()
    sh(buildah(storage, "add", ctr, str(storage / "base.tar"), "/"))
    path = "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    sh(buildah(storage, "config", "--env", path,
               "--env", "LANG=C.UTF-8", "--cmd", "python3", ctr))
    sh(buildah(storage, "commit", "--format", "docker", ctr, LOCAL_BASE))
    sh(buildah(storage, "rm", ctr))
    (storage / "base.tar").unlink()
    print(f"base image {LOCAL_BASE} made from Debian's packages in {time.monotonic() - t0:.0f} s", flush=True)
    return True


def check_config(storage: Path, tag: str) -> dict:
    config = json.loads(sh(buildah(storage, "inspect", "--type", "image", tag)))["Docker"]["config"]
    if config.get("User") in (None, "", "0", "root"):
        raise Failed(f"the image runs as root (User={config.get('User')!r})")
    if not (config.get("Healthcheck") or {}).get("Test"):
        raise Failed("no HEALTHCHECK in the image config (built without --format docker?)")
    return config


def server_uid(port: int) -> int:
    """The uid of the streamlit process serving `port` (seen from the host: chroot isolation)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
            if f"--server.port={port}" in argv and Path(argv[0]).name.startswith(("python", "streamlit")):
                return int(re.search(r"^Uid:\s+(\d+)", (cmdline.parent / "status").read_text(), re.M).group(1))
        except OSError:
            continue
    raise Failed("the server process was not found")


def browse(url: str, langs: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS, no_exception, settle

    opened = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for lang in langs:
            for path in pages():
                page = browser.new_page(viewport={"width": 1400, "height": 2000})
                page.goto(f"{url}/{path}?lang={lang}")
                settle(page)
                page.locator("h1").first.wait_for()
                no_exception(page)
                page.close()
                opened += 1
        browser.close()
    return opened


def test_variant(storage: Path, variant: str, args, pip_conf: Path) -> dict:
    from tests.test_browser import wait_healthy

    tag = f"localhost/nn-playground:{variant}"
    t0 = time.monotonic()
    report = {"variant": variant, "build_s": None}
    if not args.skip_build:
        with (storage / f"build-{variant}.log").open("w") as log:
            done = subprocess.run(build_command(storage, tag, variant, LOCAL_BASE if args.local_base else args.base,
                                                pip_conf, args.torch_cpu_index), stdout=log, stderr=subprocess.STDOUT)
        if done.returncode:
            raise Failed(f"build failed ({log.name}):\n{Path(log.name).read_text()[-2000:]}")
        report["build_s"] = round(time.monotonic() - t0)
    report["size"] = sh(buildah(storage, "images", "--noheading", "--format", "{{.Size}}", tag)).strip()
    config = check_config(storage, tag)
    report["user"] = config["User"]
    ctr = sh(buildah(storage, "from", "--name", f"nn-playground-test-{variant}", tag)).strip()
    run = buildah(storage, "run", "--isolation", "chroot", ctr, "--")
    try:
        sh([*run, "sh", "-c", FILE_CHECKS])
        report["torch"] = sh([*run, "python", "-c", "import torch; print(torch.__version__)"]).strip()
        url = f"http://127.0.0.1:{args.port}"
        with (storage / f"serve-{variant}.log").open("w") as log:
            t0 = time.monotonic()
            proc = subprocess.Popen([*run, *serve_command(config["Entrypoint"], args.port)],
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_healthy(url, proc, timeout=300)
            report["healthy_s"] = round(time.monotonic() - t0, 1)
            health = [a.replace("localhost:8501", f"localhost:{args.port}") for a in config["Healthcheck"]["Test"][1:]]
            sh([*run, *health], timeout=30)
            report["server_uid"] = server_uid(args.port)
            if report["server_uid"] == 0:
                raise Failed("the server runs as root")
            report["pages_opened"] = browse(url, args.langs.split(","))
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
        t0 = time.monotonic()
        summary = json.loads(sh([*run, *NNKIT_RUN], timeout=600))
        if summary["outcome"] != "completed" or summary["test_accuracy"] < 0.8:
            raise Failed(f"nnkit run inside the image: {summary['outcome']}, test accuracy {summary['test_accuracy']}")
        report["nnkit_run"] = {"s": round(time.monotonic() - t0, 1),
                               "test_accuracy": round(summary["test_accuracy"], 3)}
    finally:
        sh(buildah(storage, "rm", ctr))
        if not args.keep:
            sh(buildah(storage, "rmi", tag))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", choices=["cuda", "cpu"],
                        help="TORCH_VARIANT to build and test (repeatable; default cuda)")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base", help="BASE_IMAGE build argument (default: the Dockerfile's python:3.11-slim)")
    base.add_argument("--local-base", action="store_true", help="make the base from Debian's packages (mmdebstrap)")
    parser.add_argument("--torch-cpu-index", help="TORCH_CPU_INDEX build argument (where the CPU wheels come from)")
    parser.add_argument("--pip-conf", type=Path, help="pip configuration for the build (default: the CA bundle only)")
    parser.add_argument("--storage", type=Path, default=Path(f"/tmp/buildah-image-test-{os.getuid()}"))
    parser.add_argument("--port", type=int, default=8660)
    parser.add_argument("--langs", default="en,zh", help="languages to open every page in")
    parser.add_argument("--keep", action="store_true", help="keep the images and the storage afterwards")
    parser.add_argument("--skip-build", action="store_true", help="test the images already in --storage (with --keep)")
    parser.add_argument("--dry-run", action="store_true", help="print the build and base commands only")
    args = parser.parse_args(argv)
    variants = args.variant or ["cuda"]
    pip_conf = args.pip_conf or args.storage / "pip.conf"
    if args.dry_run:
        for cmd in [*(base_commands(args.storage) if args.local_base else []),
                    *(build_command(args.storage, f"localhost/nn-playground:{v}", v, LOCAL_BASE if args.local_base
                                    else args.base, pip_conf, args.torch_cpu_index) for v in variants)]:
            print(shlex.join(cmd))
        return 0
    tools = ("buildah", "chromium", *(["mmdebstrap"] if args.local_base else []))
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing or os.geteuid():
        print(f"image test needs root and {', '.join(missing) or 'nothing else'}: "
              "sudo apt-get install buildah mmdebstrap chromium", file=sys.stderr)
        return 2
    created = not args.storage.exists()  # a storage we did not create is never wiped, only our images leave it
    args.storage.mkdir(parents=True, exist_ok=True)
    if not args.pip_conf:
        pip_conf.write_text(f"[global]\ncert = {CA_BUNDLE}\ntimeout = 180\n")
    reports, status, made_base = [], 0, False
    try:
        if args.local_base and not args.skip_build:
            made_base = make_base(args.storage)
        for variant in variants:
            try:
                reports.append(test_variant(args.storage, variant, args, pip_conf))
            except (Failed, subprocess.TimeoutExpired, TimeoutError, RuntimeError, AssertionError) as err:
                reports.append({"variant": variant, "failed": str(err)[-2000:]})
                status = 1
            print(json.dumps(reports[-1]), flush=True)
    finally:
        if not args.keep and created:
            subprocess.run(buildah(args.storage, "rm", "--all"), capture_output=True)
            subprocess.run(buildah(args.storage, "rmi", "--all", "--force"), capture_output=True)
            shutil.rmtree(args.storage, ignore_errors=True)
        elif not args.keep and made_base:
            subprocess.run(buildah(args.storage, "rmi", LOCAL_BASE), capture_output=True)
    for r in reports:
        failed = " | ".join(r.get("failed", "").strip().splitlines()[-4:])
        print(f"{r['variant']}: " + (f"FAILED: {failed}" if "failed" in r else
              f"{r['size']}, built in {r['build_s']} s, healthy in {r['healthy_s']} s as uid {r['server_uid']}, "
              f"{r['pages_opened']} pages without an exception, nnkit run {r['nnkit_run']}, torch {r['torch']}"))
    return status


if __name__ == "__main__":
    sys.exit(main())
