"""A real Neo4j Community server on loopback, fetched from Maven Central, for dev and tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

NEO4J_VERSION = "5.26.12"
_POM = Path(__file__).with_name("pom.xml")
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"


class LocalNeo4jError(RuntimeError):
    """The local Neo4j server could not be fetched or started."""


class PrerequisiteMissing(LocalNeo4jError):
    """A program the server needs (java, mvn) is not installed."""


class PortInUse(LocalNeo4jError):
    """Something already listens on the port the server would take."""


class PasswordRefused(LocalNeo4jError):
    """The server's database was created with another password than the one given."""


def default_cache_dir() -> Path:
    """The git-ignored cache: ROPA_CACHE_DIR, else `.cache` in the current project."""
    return Path(os.environ.get("ROPA_CACHE_DIR", Path.cwd() / ".cache")).resolve()


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could not listen on host:port now (the test uvicorn and Neo4j make)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers do: a port that only has connections in TIME_WAIT is free to listen on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def java_executable() -> str:
    """The `java` that starts Neo4j: $JAVA_HOME/bin/java, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not java.is_file():
            raise PrerequisiteMissing(
                f"JAVA_HOME={java_home} has no bin/java; Neo4j 5.26 needs Java 17 or 21"
            )
        return str(java)
    found = shutil.which("java")
    if found is None:
        raise PrerequisiteMissing(
            "`java` is not on PATH; Neo4j 5.26 needs Java 17 or 21 "
            "(apt-get install openjdk-17-jre-headless, or set JAVA_HOME)"
        )
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _say(message: str) -> None:
    print(f"[neo4j] {message}", file=sys.stderr, flush=True)


def ensure_installed(cache_dir: Path, version: str = NEO4J_VERSION) -> Path:
    """Resolve the server's jars with `mvn` into the cache once; return the lib folder."""
    lib = cache_dir / "neo4j" / version / "lib"
    marker = lib / ".complete"
    if marker.exists():
        return lib
    java_executable()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise PrerequisiteMissing(
            "`mvn` is not on PATH, and Neo4j's jars are not in the cache yet; "
            "install Maven (apt-get install maven)"
        )
    staging = lib.with_name("lib.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _say(f"fetching Neo4j Community {version} from Maven Central (first run only) ...")
    started = time.monotonic()
    proc = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(_POM),
            f"-Dneo4j.version={version}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise LocalNeo4jError(f"mvn could not resolve Neo4j {version}:\n{tail}")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    marker.write_text(version)
    jars = len(list(lib.glob("*.jar")))
    _say(f"fetched {jars} jars in {time.monotonic() - started:.0f} s into {lib}")
    return lib


@dataclass
class LocalNeo4j:
    """One Neo4j server process with its own home folder (config, data, logs)."""

    home: Path
    port: int = 7687
    password: str | None = None
    heap: str = "2g"
    page_cache: str = "2g"
    cache_dir: Path = field(default_factory=default_cache_dir)
    version: str = NEO4J_VERSION
    startup_timeout: float = 120.0
    # Seconds the last start took until Bolt answered (None before one): how slow this machine is.
    answered_after: float | None = field(default=None, init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def uri(self) -> str:
        """The Bolt URI clients connect to."""
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Neo4j's own user log."""
        return self.home / "logs" / "neo4j.log"

    def _password(self) -> str:
        # The password is kept beside the data so that a restarted server and its clients agree.
        stored = self.home / "password"
        if self.password:
            return self.password
        if stored.exists():
            return stored.read_text().strip()
        generated = secrets.token_urlsafe(18)
        stored.write_text(generated)
        stored.chmod(0o600)
        return generated

    def _write_config(self) -> Path:
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "neo4j.conf").write_text(
            "\n".join(
                [
                    "server.default_listen_address=127.0.0.1",
                    "server.default_advertised_address=127.0.0.1",
                    f"server.bolt.listen_address=127.0.0.1:{self.port}",
                    f"server.bolt.advertised_address=127.0.0.1:{self.port}",
                    "server.http.enabled=false",
                    "server.https.enabled=false",
                    "dbms.security.auth_enabled=true",
                    "dbms.usage_report.enabled=false",
                    f"server.memory.pagecache.size={self.page_cache}",
                    "db.tx_log.rotation.retention_policy=100M size",
                    "server.directories.data=" + str(self.home / "data"),
                    "server.directories.logs=" + str(self.home / "logs"),
                    "server.directories.run=" + str(self.home / "run"),
                    "server.directories.plugins=" + str(self.home / "plugins"),
                    "",
                ]
            )
        )
        return conf

    @property
    def port_file(self) -> Path:
        """Where the server's Bolt port is kept, so that clients in other shells find it."""
        return self.home / "port"

    def _java(self) -> list[str]:
        return [
            java_executable(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "-Dfile.encoding=UTF-8",
        ]

    def start(self) -> str:
        """Fetch if needed, start the server, wait until Bolt answers; return the password."""
        java_executable()
        if port_taken(self.port):
            raise PortInUse(
                f"port {self.port} on 127.0.0.1 is already in use; set NEO4J_PORT to another port, "
                "or set NEO4J_URI to use the server that listens there"
            )
        lib = ensure_installed(self.cache_dir, self.version)
        for sub in ("data", "logs", "run", "plugins"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        conf = self._write_config()
        password = self._password()
        classpath = str(lib / "*")
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(conf)}
        if not (self.home / "data" / "dbms" / "auth.ini").exists():
            proc = subprocess.run(
                [
                    *self._java()[:1],
                    "-cp",
                    classpath,
                    _ADMIN_TOOL,
                    "dbms",
                    "set-initial-password",
                    # A password may begin with "-" (token_urlsafe does one time in 64), which
                    # the admin tool would read as an option and then report no password.
                    "--",
                    password,
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise LocalNeo4jError(
                    f"setting the initial password failed:\n{proc.stderr[-2000:]}"
                )
        self.port_file.write_text(f"{self.port}\n")
        console = open(self.home / "logs" / "console.log", "ab")  # noqa: SIM115 - owned by the child
        _say(f"starting Neo4j {self.version} on {self.uri} (home {self.home})")
        self._process = subprocess.Popen(
            [
                *self._java(),
                "-cp",
                classpath,
                _ENTRY_POINT,
                f"--home-dir={self.home}",
                f"--config-dir={conf}",
            ],
            env=env,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        console.close()
        self._wait_ready(password)
        return password

    def _wait_ready(self, password: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        started = time.monotonic()
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LocalNeo4jError(
                    f"Neo4j exited with code {self._process.returncode} while starting.\n"
                    + self.log_tail()
                )
            if _port_open(self.port) and self._bolt_answers(password):
                self.answered_after = time.monotonic() - started
                _say(f"Bolt answers on {self.uri} after {self.answered_after:.1f} s")
                return
            time.sleep(0.5)
        self.stop()
        raise LocalNeo4jError(
            f"Neo4j did not answer on {self.uri} within {self.startup_timeout:.0f} s.\n"
            + self.log_tail()
        )

    def _bolt_answers(self, password: str) -> bool:
        from neo4j.exceptions import AuthError

        try:
            return _bolt_answers(self.uri, password)
        except AuthError:
            # Retrying would only lock the account: the data was made with another password.
            self.stop()
            raise PasswordRefused(
                f"Neo4j in {self.home} refused the password "
                + ("in NEO4J_PASSWORD" if self.password else f"in {self.home / 'password'}")
                + "; its database was created with another one. Give that one in NEO4J_PASSWORD, "
                "or start from an empty database with `ropa dev --fresh`"
            ) from None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Neo4j's log and console, for error messages."""
        parts = []
        for path in (self.log_file, self.home / "logs" / "console.log"):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- tail of {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(Neo4j wrote no log)"

    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL after `timeout` seconds. Idempotent."""
        proc = self._process
        if proc is None or proc.poll() is not None:
            return
        _say("stopping Neo4j ...")
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=10)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _bolt_answers(uri: str, password: str) -> bool:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    try:
        with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
            driver.verify_connectivity()
            return True
    except AuthError:
        raise
    except (ServiceUnavailable, Neo4jError, OSError):
        return False
