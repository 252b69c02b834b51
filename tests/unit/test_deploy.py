"""Deployment files: the production Streamlit settings, the Dockerfile and the compose file.

No image can be built on these machines, so the tests hold the files to what CI does run: the
Dockerfile's install commands are the Makefile's, its settings are valid Streamlit options.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from streamlit import config

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = tomllib.loads((ROOT / "deploy" / "streamlit.toml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")


def test_production_settings_are_real_streamlit_options() -> None:
    known = set(config._config_options_template)
    used = {f"{section}.{key}" for section, values in PRODUCTION.items() for key in values}
    assert used and used <= known, used - known


def test_production_settings_harden_the_server() -> None:
    server, client = PRODUCTION["server"], PRODUCTION["client"]
    assert server["fileWatcherType"] == "none" and server["runOnSave"] is False
    assert server["headless"] is True
    assert 0 < server["maxUploadSize"] <= 400
    assert "localhost" in server["allowedHosts"]
    assert client["showErrorDetails"] == "none"
    assert PRODUCTION["browser"]["gatherUsageStats"] is False


def test_production_looks_like_development() -> None:
    development = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert PRODUCTION["theme"] == development["theme"]
    assert PRODUCTION["client"]["showErrorDetails"] == development["client"]["showErrorDetails"]
    assert PRODUCTION["runner"] == development["runner"]


def test_script_runs_end_without_a_full_garbage_collection() -> None:
    # Streamlit's collection after every run delays each answer click's fragment runs; the app
    # collects after its full runs instead (ui.frame.collect_garbage).
    development = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert "runner.postScriptGC" in config._config_options_template
    assert development["runner"]["postScriptGC"] is False


def _run_lines(dockerfile: str) -> list[str]:
    joined = dockerfile.replace("\\\n", " ")
    return [" ".join(line.split()[1:]) for line in joined.splitlines() if line.startswith("RUN ")]


def test_dockerfile_installs_exactly_as_the_makefile_does() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [cmd for cmd in _run_lines(DOCKERFILE) if "pip install" in cmd]
    assert installs
    for command in installs:
        as_in_makefile = re.sub(r"^python ", "$(PY) ", command)
        assert as_in_makefile in makefile, command
    assert "requirements.lock" in " ".join(installs)


def test_dockerfile_runs_slim_as_non_root_with_health_check_and_volume() -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.M)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*/_stcore/health", DOCKERFILE.replace("\\\n", " "), re.M)
    assert re.search(r"^VOLUME ", DOCKERFILE, re.M)
    assert "deploy/streamlit.toml .streamlit/config.toml" in DOCKERFILE
    for path in re.findall(r"^COPY (\S+) ", DOCKERFILE, re.M):
        assert path == "." or (ROOT / path).exists(), path


def test_compose_runs_two_replicas_on_one_postgres_behind_a_sticky_proxy() -> None:
    services = re.findall(r"^  (\w+):", COMPOSE.split("\nservices:\n", 1)[1], re.M)
    assert {"app1", "app2", "postgres", "proxy"} <= set(services)
    assert "MYN_WORKSHOP_DB: postgresql://" in COMPOSE
    assert re.search(r"app1: \*app\n\s+app2: \*app", COMPOSE)
    caddy = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy app1:8501 app2:8501" in caddy
    assert re.search(r"lb_policy cookie", caddy)  # sticky: a browser stays on one replica
    assert "health_uri /_stcore/health" in caddy
    for mounted in re.findall(r"- \./([^:\s]+):", COMPOSE):
        assert (ROOT / mounted).exists(), mounted
