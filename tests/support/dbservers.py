"""Throwaway PostgreSQL and MariaDB servers: a data folder in /tmp, a free port, stopped after.

Each pytest worker starts its own servers (session fixtures), never a shared one;
each test gets its own database in them. Run as root, the servers run as their
system users (``postgres``, ``mysql``). MariaDB comes from Debian's
``mariadb-server``, installed here once (under a file lock, so parallel workers
do not race) when the machine lacks it; ``.ci/run`` installs it up front.

Example::

    with PostgresServer() as server:
        url = server.url(server.new_database())   # postgresql://ingram@127.0.0.1:PORT/db_...
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER = "ingram"
PASSWORD = "Mirror-pw-7f3a9c"  # the tests' user; looked for in every output as a secret
INSTALL_LOCK = Path(tempfile.gettempdir()) / "ingram-sync-mariadb-install.lock"
START_TIMEOUT = 60.0


def binary(name: str) -> str | None:
    """A server's program: on the PATH, or in /usr/sbin where Debian puts it."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_user(user: str) -> list[str]:
    """Run a server's command as its system user when we are root (initdb refuses root)."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def private_folder(prefix: str, owner: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, owner, owner)
    return folder


class Server:
    """What both servers share: a folder, a port, databases for tests, an admin engine."""

    scheme = ""
    folder: Path
    port: int

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def start(self) -> Server:
        raise NotImplementedError

    def stop(self, fast: bool = True) -> None:
        """Stop the server; ``fast=False`` (throwing it away) does not wait for a clean stop."""
        raise NotImplementedError

    def admin_url(self, database: str) -> str:
        raise NotImplementedError

    def url(self, database: str) -> str:
        """The URL a user would configure: no password (that comes from the environment)."""
        return f"{self.scheme}://{USER}@127.0.0.1:{self.port}/{database}"

    def engine(self, database: str) -> Engine:
        """An engine as the tests' user, with the password, to look at what a mirror wrote."""
        driver = "postgresql+psycopg" if self.scheme == "postgresql" else "mysql+pymysql"
        url = make_url(self.url(database)).set(drivername=driver, password=PASSWORD)
        return create_engine(url)

    def new_database(self) -> str:
        name = f"shop_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.admin_url(""), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(self.create_database_sql(name)))
        finally:
            admin.dispose()
        return name

    def create_database_sql(self, name: str) -> str:
        raise NotImplementedError

    def remove(self) -> None:
        try:
            self.stop(fast=False)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class PostgresServer(Server):
    scheme = "postgresql"

    def __init__(self, durable: bool = False) -> None:
        """``durable``: fsync as a real server does (benchmarks); tests go without."""
        self.folder = private_folder("ingram-pg-", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.running = False
        self.durable = durable

    def start(self) -> PostgresServer:
        password_file = self.folder / "admin-password"
        password_file.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(password_file, "postgres", "postgres")
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8"]
        initdb += ["--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"]
        initdb += [f"--pwfile={password_file}", "--no-instructions", "--no-sync"]
        self.run(initdb)
        self.launch()
        admin = create_engine(self.admin_url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'"))
        finally:
            admin.dispose()
        return self

    def launch(self) -> None:
        """Start the server on its data folder (again, after ``stop``)."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=40"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log = str(self.folder / "log")
        wait = ["-w", "-t", str(int(START_TIMEOUT))]
        self.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, *wait, "-l", log, "start"]
        )
        self.running = True

    def run(self, command: list[str]) -> None:
        done = subprocess.run(
            [*as_user("postgres"), *command],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            log = (self.folder / "log").read_text() if (self.folder / "log").exists() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stderr}{done.stdout}{log[-2000:]}")

    def admin_url(self, database: str) -> str:
        # the superuser over the unix socket in the folder (trust), never over TCP
        where = f"host={self.folder}&port={self.port}"
        return f"postgresql+psycopg://postgres@/{database or 'postgres'}?{where}"

    def create_database_sql(self, name: str) -> str:
        return f"CREATE DATABASE {name} OWNER {USER}"

    def stop(self, fast: bool = True) -> None:
        if self.running:
            self.running = False
            mode = "fast" if fast else "immediate"
            self.run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])


class MariaDBServer(Server):
    scheme = "mysql"

    def __init__(self) -> None:
        install_mariadb()
        self.folder = private_folder("ingram-mariadb-", "mysql")
        self.data = self.folder / "data"
        self.socket = self.folder / "socket"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MariaDBServer:
        install = [str(binary("mariadb-install-db")), "--no-defaults", f"--datadir={self.data}"]
        install += ["--auth-root-authentication-method=normal", "--skip-test-db"]
        install += ["--user=mysql"] if os.geteuid() == 0 else []
        done = subprocess.run(install, capture_output=True, text=True, cwd=self.folder, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {done.stderr}{done.stdout}")
        server = [str(binary("mariadbd")), "--no-defaults", f"--datadir={self.data}"]
        server += [f"--port={self.port}"]
        server += ["--bind-address=127.0.0.1", f"--socket={self.socket}", "--skip-log-bin"]
        server += [f"--pid-file={self.folder / 'pid'}", f"--log-error={self.folder / 'log'}"]
        server += ["--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M"]
        server += ["--innodb-flush-log-at-trx-commit=0", "--skip-name-resolve"]
        server += ["--user=mysql"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(server, cwd=self.folder, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)  # fmt: skip
        self.wait_until_up()
        admin = create_engine(self.admin_url(""), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'"))
                conn.execute(text(f"GRANT ALL ON *.* TO '{USER}'@'%'"))
        finally:
            admin.dispose()
        return self

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(self.folder / 'log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("mariadbd did not start in time")

    def admin_url(self, database: str) -> str:
        return f"mysql+pymysql://root@/{database}?unix_socket={self.socket}"

    def create_database_sql(self, name: str) -> str:
        return f"CREATE DATABASE {name} CHARACTER SET utf8mb4"

    def stop(self, fast: bool = True) -> None:
        if self.process is not None and self.process.poll() is None:
            if fast:
                self.process.terminate()
            else:
                self.process.kill()
            self.process.wait(30)
        self.process = None


def install_mariadb() -> None:
    """Debian's mariadb-server, once per machine; parallel workers wait for the first."""
    if binary("mariadbd"):
        return
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary("mariadbd"):
            return
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "mariadb-server"]):  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")


@dataclass
class TargetDb:
    """One test's database in a running server."""

    server: Server
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    @property
    def scheme(self) -> str:
        return self.server.scheme

    def rows(self, table: str, order: str = "ingram_part_number") -> list[dict[str, Any]]:
        engine = self.server.engine(self.name)
        try:
            with engine.connect() as conn:
                result = conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
                return [dict(row) for row in result.mappings()]
        finally:
            engine.dispose()

    def execute(self, sql: str, **params: Any) -> list[Any]:
        engine = self.server.engine(self.name)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(sql), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    with MariaDBServer() as server:
        yield server


@pytest.fixture(params=["postgresql", "mysql"])
def target_db(request: pytest.FixtureRequest) -> TargetDb:
    """A new database in PostgreSQL, then in MariaDB (each test runs against both)."""
    fixture = "postgres_server" if request.param == "postgresql" else "mariadb_server"
    server: Server = request.getfixturevalue(fixture)
    return TargetDb(server, server.new_database())


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> TargetDb:
    return TargetDb(postgres_server, postgres_server.new_database())
