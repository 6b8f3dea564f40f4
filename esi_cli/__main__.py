"""`python -m esi_cli` is the `esi` command."""

from esi_cli.app import main

main()
