"""Every ROPA_* variable the code reads is documented (README.md, docs/, helm/README.md): the
fields of every pydantic-settings class (by prefix or alias) and every plain environment read."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "graph", "schema")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "helm" / "README.md"]
ENVIRON_READ = re.compile(r"""(?:environ(?:\.get)?\(|environ\[|getenv\()\s*["'](ROPA_[A-Z0-9_]+)""")


def _modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "node_modules" in parts or parts[-1] == "__main__":
                continue
            found.append(".".join(p for p in parts if p != "__init__"))
    return found


def _settings_variables() -> set[str]:
    classes: set[type[BaseSettings]] = set()
    for name in _modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseSettings) and value is not BaseSettings:
                classes.add(value)
    names: set[str] = set()
    for settings in classes:
        prefix = str(settings.model_config.get("env_prefix", ""))
        for field_name, field in settings.model_fields.items():
            kind = field.annotation
            if inspect.isclass(kind) and issubclass(kind, BaseSettings):
                continue  # read by its own class, under its own prefix
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                choices = [a for a in alias.choices if isinstance(a, str) and a.isupper()]
            elif isinstance(alias, str):
                choices = [alias]
            else:
                choices = [(prefix + field_name).upper()]
            names.update(c for c in choices if c.startswith("ROPA_"))
    return names


def _plain_reads() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names.update(ENVIRON_READ.findall(path.read_text()))
    return names


def test_every_variable_read_is_documented() -> None:
    read = _settings_variables() | _plain_reads()
    # Both ways of reading are found.
    assert {"ROPA_WEBHOOK_ALLOW_LOOPBACK", "ROPA_DEV_TOKEN"} <= read, sorted(read)
    text = "".join(doc.read_text() for doc in DOCS)
    missing = sorted(name for name in read if not re.search(rf"`{name}\b", text))
    assert not missing, f"read but documented nowhere: {missing}"
