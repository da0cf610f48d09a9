"""`python -m services.cli` is the `ropa` command."""

from __future__ import annotations

from services.cli.main import main

main()
