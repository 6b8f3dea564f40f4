"""What a user sees of the generated client in an editor: one import of each name, every
parameter described, OPERATION agreeing with the signature, corporation routes saying how to
call them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.wallet import get_characters_character_id_wallet, get_corporations_corporation_id_wallets


def test_no_generated_module_imports_a_name_twice(generated_client: Path) -> None:
    for module in (generated_client / "api").rglob("*.py"):
        imported = re.findall(r"^from \S+ import (.+)$", module.read_text(), re.M)
        names = [name.strip(" ()") for line in imported for name in line.split(",") if name.strip(" ()")]
        assert len(names) == len(set(names)), f"{module}: {sorted(n for n in names if names.count(n) > 1)}"


def test_every_parameter_is_described_in_args() -> None:
    doc = inspect.getdoc(get_characters_character_id_wallet.sync) or ""
    assert "character_id (int): The ID of the character" in doc


def test_operation_facts_agree_with_the_signature() -> None:
    facts = {p.python_name: p for p in get_markets_region_id_orders.OPERATION.parameters}
    signature = inspect.signature(get_markets_region_id_orders.sync).parameters
    for name, parameter in facts.items():
        has_default = signature[name].default is not inspect.Parameter.empty
        assert parameter.required != has_default, name


def test_corporation_routes_say_to_call_for_a_character(generated_client: Path) -> None:
    doc = inspect.getdoc(get_corporations_corporation_id_wallets.sync) or ""
    assert "client.for_character(character_id)" in doc
