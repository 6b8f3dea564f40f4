"""The two pages the web adapters show: choose a character, and an error a user can act on.
Plain server-rendered HTML, usable without styling; every value is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

from esi_auth.token import Token

_HEAD = (
    "<!doctype html><html lang=en><meta charset=utf-8>"
    '<meta name=viewport content="width=device-width, initial-scale=1">'
    "<title>{title}</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}"
    "label{{display:block;padding:.5em;border:1px solid #ccc;margin:.3em 0}}</style>"
)


def selection_page(
    tokens: Sequence[Token], scopes: tuple[str, ...], csrf: str, action: str, return_to: str
) -> str:
    """A form listing the user's characters that have the scopes; posting it picks one."""
    choices = "".join(
        f'<label><input type=radio name=token value="{token.id}" required{" checked" if index == 0 else ""}> '
        f"<b>{html.escape(token.character_name)}</b> ({token.character_id})</label>"
        for index, token in enumerate(tokens)
    )
    scope_list = "".join(f"<li><code>{html.escape(scope)}</code></li>" for scope in scopes)
    return (
        _HEAD.format(title="Choose a character")
        + "<h1>Choose a character</h1><p>This page needs a character with these scopes:</p>"
        + f"<ul>{scope_list}</ul>"
        + f'<form method=post action="{html.escape(action)}">{choices}'
        + f'<input type=hidden name=csrf value="{html.escape(csrf)}">'
        + f'<input type=hidden name=scopes value="{html.escape(" ".join(scopes))}">'
        + f'<input type=hidden name=return_to value="{html.escape(return_to)}">'
        + "<p><button type=submit>Use this character</button></p></form></html>"
    )


def error_page(message: str, *, again: bool = False) -> str:
    retry = '<p><a href="/">Back to the site, to start again</a></p>' if again else ""
    return _HEAD.format(title="EVE login") + f"<h1>EVE login</h1><p>{html.escape(message)}</p>{retry}</html>"
