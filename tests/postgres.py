"""A throwaway PostgreSQL cluster for tests: initdb into a temp dir, start on a free port, stop.

PostgreSQL refuses to run as root, so as root every server command runs as the ``postgres`` user
(``runuser``) in a directory that user owns; as any other user the commands run directly.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

__all__ = ["Cluster", "find_binaries"]


def find_binaries() -> dict[str, str] | None:
    """Return the paths of ``initdb`` and ``pg_ctl`` (PATH first, then Debian's folder), or None."""
    found: dict[str, str] = {}
    for name in ("initdb", "pg_ctl"):
        path = shutil.which(name)
        if path is None:
            candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
            path = candidates[-1] if candidates else None
        if path is None:
            return None
        found[name] = path
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One PostgreSQL server in a temp dir, reachable on 127.0.0.1 as user ``postgres``."""

    def __init__(self, binaries: dict[str, str], durable: bool = False) -> None:
        self.binaries = binaries
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="myn-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        """Create the cluster and start the server (about 2 s)."""
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(self.binaries["initdb"], "-D", str(self.data), "-A", "trust", "-U",
                  "postgres", "-E", "UTF8", "--no-locale", "--no-sync")
        # Tests kill clients, never the server, so a commit survives them without fsync; the
        # benchmark asks for a durable server to measure what a real one costs.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200")
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(self.binaries["pg_ctl"], "-D", str(self.data), "-l",
                  str(self.root / "server.log"), "-o", options, "-w", "start")

    def url(self, database: str = "postgres") -> str:
        """Return the postgresql:// URL of one database of this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create a fresh, empty database and return its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # a generated name, never user text
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its files (no shutdown checkpoint: they are thrown away)."""
        try:
            self._run(self.binaries["pg_ctl"], "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
