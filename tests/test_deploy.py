"""The promises of the README and the deployment files hold: two commands, CI runs the tests,
the Dockerfile lints clean, the public-deployment settings are on."""

from __future__ import annotations

import re
import shutil
import subprocess

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_readme_quickstart_is_two_commands_and_ci_runs_the_second():
    commands = quickstart_commands()
    assert len(commands) == 2, commands
    assert commands[0].endswith("make run") and commands[1].endswith("make test")
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_requirements_are_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line), f"{name}: {line}"
    pins = (ROOT / "requirements.txt").read_text()
    assert "torch==2.14.1" in pins and "torchvision==0.29.1" in pins


def test_dockerfile_lints_clean():
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install -r requirements-dev.txt)")
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_public_deployment_settings():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True and config["server"]["enableCORS"] is True
    assert config["server"]["maxUploadSize"] <= 20
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["client"]["showErrorDetails"] in ("type", "none", False)
    assert config["server"]["fileWatcherType"] == "none"
    assert config["runner"]["postScriptGC"] is False


def test_every_deployment_setting_is_explained_in_the_readme():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f"{section}.{key}" for section, options in config.items() for key in options
               if f"| `{section}.{key}` |" not in readme]
    assert not missing, f"README's table of config.toml lacks {missing}"


COUNTING_SERVER = """
import gc, sys
real = gc.collect
def counting(generation=2):
    print(f"forced gc.collect({generation})", flush=True)
    return real(generation)
gc.collect = counting
from streamlit.web.cli import main
sys.argv = ["streamlit", "run", "app.py", "--server.headless", "true", "--server.port", sys.argv[1],
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
main()
"""


@pytest.mark.parametrize("post_script_gc", ["config.toml", "true"])
def test_a_served_page_forces_no_full_collection_after_its_runs(tmp_path, post_script_gc):
    """Streamlit's default collects every generation after each run, fragments' included: about 0.1 s
    holding the GIL with torch loaded, while a live training view reruns twice a second. The load test
    measured the cost (README "Sizing"). Here a real server, its gc.collect counted, serves a page
    two pages: none with config.toml's setting; with Streamlit's default (the reference) one a run."""
    import asyncio
    import os
    import sys

    from st_client import Session
    from test_browser import free_port, wait_healthy

    port, log = free_port(), tmp_path / "server.log"
    env = dict(os.environ)
    if post_script_gc == "true":
        env["STREAMLIT_RUNNER_POST_SCRIPT_GC"] = "true"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", COUNTING_SERVER, str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, timeout=120)

        async def visit():
            async with Session(url) as s:
                await s.open("activations")
                await s.open("regression")
                return s.exceptions

        assert asyncio.run(visit()) == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    forced = log.read_text().count("forced gc.collect(2)")
    if post_script_gc == "config.toml":
        assert forced == 0, log.read_text()[-2000:]
    else:
        assert forced >= 2, log.read_text()[-2000:]  # the instrument sees what the setting prevents


def _image_test():
    """scripts/image_test.py as a module (its command construction is checked here, without buildah)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("image_test", ROOT / "scripts" / "image_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_base_image_is_a_build_argument_defaulting_to_python_slim():
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("ARG", "BASE_IMAGE=python:3.11-slim")
    assert instructions[1] == ("FROM", "${BASE_IMAGE}")
    assert ("ARG", "TORCH_VARIANT=cuda") in instructions


def test_the_image_runs_as_its_user_with_the_code_root_owned():
    instructions = _dockerfile_instructions()
    text = " ".join(arg for _, arg in instructions)
    assert "chown" not in text and "--chown" not in text  # no chown -R copy of the app layer
    users = [i for i, (op, arg) in enumerate(instructions) if op == "USER"]
    assert [instructions[i][1] for i in users] == ["1000"]
    copies = [i for i, (op, _) in enumerate(instructions) if op == "COPY"]
    assert copies and all(i < users[0] for i in copies)  # copied as root, before the switch to the user
    assert "install -d -o 1000 -g 1000 /app/data" in text and "NNKIT_DATA_DIR=/app/data" in text
    assert instructions[-1][0] == "ENTRYPOINT" and any(op == "HEALTHCHECK" for op, _ in instructions)


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore matching for these patterns: `*` within a path segment, `**` across,
    a match on a folder leaves out everything under it; the last matching pattern wins (`!` keeps)."""
    ignored = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        body = re.escape(pattern.lstrip("!").strip("/")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(body + "(?:/.*)?", path):
            ignored = not keep
    return ignored


def test_dockerignore_leaves_tests_benchmarks_and_docs_out_and_the_app_in():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    sent = [f for f in files if not _ignored(f, patterns)]
    assert not [f for f in sent if f.split("/")[0] in ("tests", "bench", "docs", "scripts", ".ci")], sent
    assert "README.md" not in sent and "requirements-dev.txt" not in sent
    for needed in ("app.py", "serve.py", "requirements.txt", ".streamlit/config.toml", "pages/home.py",
                   "ui/page.py", "nnkit/__main__.py"):
        assert needed in sent, needed
    assert _ignored("nnkit/__pycache__/x.pyc", patterns) and not _ignored("nnkit/train.py", patterns)


def test_the_image_test_builds_in_docker_format_with_read_only_build_mounts(tmp_path):
    image_test = _image_test()
    cmd = image_test.build_command(tmp_path, "localhost/t:cpu", "cpu", "localhost/base:1", tmp_path / "pip.conf")
    joined = " ".join(cmd)
    assert "bud --format docker --isolation chroot" in joined and "--storage-driver vfs" in joined
    assert "--build-arg TORCH_VARIANT=cpu" in joined and "--build-arg BASE_IMAGE=localhost/base:1" in joined
    mounts = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-v"]
    assert f"{tmp_path / 'pip.conf'}:/etc/pip.conf:ro" in mounts and all(m.endswith(":ro") for m in mounts)
    assert cmd[-1] == str(ROOT)
    default = image_test.build_command(tmp_path, "t", "cuda", None, tmp_path / "pip.conf")
    assert not any(a.startswith("BASE_IMAGE=") for a in default)  # the Dockerfile's own default base
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip.conf" not in dockerfile and "ca-certificates.crt" not in dockerfile  # never baked in


def test_the_image_test_serves_the_images_entrypoint_on_its_own_port_and_opens_every_page():
    image_test = _image_test()
    instructions = dict(_dockerfile_instructions())
    entrypoint = __import__("json").loads(instructions["ENTRYPOINT"])
    served = image_test.serve_command(entrypoint, 8660)
    assert served[:3] == entrypoint[:3] and "--server.port=8660" in served and "--server.address=127.0.0.1" in served
    assert "localhost:8501" in instructions["HEALTHCHECK"]  # the port the script moves the healthcheck from
    with pytest.raises(image_test.Failed):
        image_test.serve_command(["streamlit", "run", "serve.py"], 8660)
    app = (ROOT / "app.py").read_text()
    assert len(image_test.pages()) == app.count("st.Page(") and image_test.pages()[0] == ""
