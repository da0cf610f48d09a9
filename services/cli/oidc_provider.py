"""A development OpenID provider on loopback: tools/oidc-provider (oidc-provider under Node).

`ropa dev` starts one so that people can try signing in, and the sign-in tests start one to
sign in against; both through `DevProvider`. It is never for production: its accounts, its
client and its signing key live only as long as the process.
"""

from __future__ import annotations

import json
import secrets
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "tools" / "oidc-provider"
SCRIPT = PROVIDER_DIR / "provider.mjs"


class DevProviderError(Exception):
    """The development provider cannot be started; says why."""


@dataclass(frozen=True)
class DevUser:
    """An account of the development provider and the claims its ID tokens carry."""

    login: str
    password: str
    sub: str
    claims: dict[str, Any]


@dataclass(frozen=True)
class DevClient:
    """The registry as a client of the provider."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


def missing_reason() -> str | None:
    """Why the provider cannot run here (no node, not installed), or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return (
            f"its packages are not installed (run `make oidc-provider`, npm ci in {PROVIDER_DIR})"
        )
    return None


@dataclass
class DevProvider:
    """Runs tools/oidc-provider/provider.mjs with these accounts and this client."""

    home: Path
    client: DevClient
    users: tuple[DevUser, ...]
    port: int = 0
    issuer: str = ""
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> str:
        """Start it and wait until it listens; its issuer URL."""
        reason = missing_reason()
        if reason is not None:
            raise DevProviderError(f"cannot start the development OpenID provider: {reason}")
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "oidc-provider.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "clients": [
                        {
                            "client_id": self.client.client_id,
                            "client_secret": self.client.client_secret,
                            "redirect_uris": list(self.client.redirect_uris),
                            "grant_types": ["authorization_code"],
                            "response_types": ["code"],
                        }
                    ],
                    "users": [
                        {"login": u.login, "password": u.password, "sub": u.sub, "claims": u.claims}
                        for u in self.users
                    ],
                }
            ),
            encoding="utf-8",
        )
        log = (self.home / "oidc-provider.log").open("ab")
        self._process = subprocess.Popen(
            ["node", str(SCRIPT), str(config)],
            cwd=PROVIDER_DIR,
            # Node can stall at start on an inherited stdin it cannot use; it reads none.
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        log.close()
        stdout = self._process.stdout
        if stdout is None:
            raise DevProviderError("the development OpenID provider has no stdout")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DevProviderError(
                    f"the development OpenID provider exited with {self._process.returncode}; "
                    f"see {self.home / 'oidc-provider.log'}"
                )
            ready, _, _ = select.select([stdout], [], [], 0.2)
            if ready:
                line = stdout.readline()
                self.issuer = str(json.loads(line)["issuer"])
                return self.issuer
        self.stop()
        raise DevProviderError(f"the development OpenID provider did not start in {timeout:.0f} s")

    def stop(self) -> None:
        """Stop it (and wait for it)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class DevSignIn:
    """`ropa dev`'s sign-in: the running provider, the registry's settings for it, the accounts."""

    provider: DevProvider
    env: dict[str, str]
    banner: list[str]


def start_dev_sign_in(home: Path, registry_url: str, registers: list[str]) -> DevSignIn:
    """Start the provider with a `dpo` account (dpo of `registers`) and an `admin` account, each
    with a new password; the ROPA_OIDC_* settings that make the registry use it."""
    password = secrets.token_urlsafe(9)
    client = DevClient("ropa-dev", secrets.token_urlsafe(24), (f"{registry_url}/auth/callback",))
    users = [
        DevUser("admin", password, "dev-admin", {"name": "Dev Admin", "roles": ["ropa-admin"]})
    ]
    mappings: list[dict[str, Any]] = [{"claim": "roles", "value": "ropa-admin", "role": "admin"}]
    if registers:
        users.append(
            DevUser(
                "dpo",
                password,
                "dev-dpo",
                {"name": "Dev DPO", "email": "dpo@dev.invalid", "groups": ["ropa-dpo"]},
            )
        )
        mappings.append({"group": "ropa-dpo", "role": "dpo", "registers": registers})
    provider = DevProvider(home, client, tuple(users))
    issuer = provider.start()
    env = {
        "ROPA_OIDC_ISSUER": issuer,
        "ROPA_OIDC_CLIENT_ID": client.client_id,
        "ROPA_OIDC_CLIENT_SECRET": client.client_secret,
        "ROPA_OIDC_ROLE_MAPPINGS": json.dumps(mappings),
        "ROPA_PUBLIC_URL": registry_url,
        "ROPA_SESSION_SECRET": secrets.token_urlsafe(32),
    }
    accounts = ", ".join(
        f"{u.login} ({'dpo of ' + ', '.join(registers) if u.login == 'dpo' else 'admin'})"
        for u in users
    )
    banner = [
        f"  Sign in          {registry_url}/auth/login  (who am I: {registry_url}/auth/me)",
        f"                   as {accounts}; password {password}",
        f"                   (a development OpenID provider at {issuer}; set ROPA_OIDC_ISSUER",
        "                   and the other ROPA_OIDC_* to use your own instead)",
    ]
    return DevSignIn(provider, env, banner)
