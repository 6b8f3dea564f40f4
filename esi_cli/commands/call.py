"""`esi ops` and `esi call`: find any ESI operation and call it, typed from the generated index."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from esi_cli.console import console, fail, print_rows
from esi_cli.context import esi_client, one_line_errors, sso_app
from esi_client.types import to_jsonable


def ops_command(
    text: Annotated[str | None, typer.Argument(help="Filter on id, path or tag; or `show`.")] = None,
    operation_id: Annotated[str | None, typer.Argument(help="With `show`: the operation.")] = None,
) -> None:
    """List operations with their method, path and scopes; `esi ops show OP` describes one."""
    from esi_client.operations import all_operations

    if text == "show" and operation_id:
        _print_help(operation_id)
        return

    rows = [
        (op.id, f"{op.method} {op.path}", " ".join(op.scopes), op.paging or "")
        for op in all_operations()
        if not text or text.lower() in f"{op.id} {op.path} {op.tag}".lower()
    ]
    if not console.is_terminal:  # for grep, cut and scripts: one operation per line, tab-separated
        typer.echo("".join("\t".join(row) + "\n" for row in rows), nl=False)
        return
    table = Table()
    # The id is what a user types next: it is never cut; the other columns give way.
    table.add_column("operation", no_wrap=True, min_width=max((len(row[0]) for row in rows), default=9))
    table.add_column("route", overflow="fold")
    table.add_column("scopes", overflow="fold")
    table.add_column("paging")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)


def _convert(json_type: str, raw: str) -> Any:
    if json_type.startswith("array["):
        inner = json_type[6:-1]
        return [_convert(inner, part) for part in raw.split(",") if part]
    if json_type == "integer":
        return int(raw)
    if json_type == "number":
        return float(raw)
    if json_type == "boolean":
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{raw!r} is not a boolean")
        return raw.lower() in ("true", "1", "yes")
    if json_type in ("object",):
        return orjson.loads(raw)
    return raw


def _arguments(operation: Any, extra: list[str]) -> dict[str, Any]:
    """`--name value` pairs (dashes or underscores) checked and typed against the operation."""
    by_name = {p.name.replace("-", "_"): p for p in operation.parameters}
    by_name.update({p.python_name: p for p in operation.parameters})
    values: dict[str, Any] = {}
    pairs = iter(extra)
    for flag in pairs:
        if not flag.startswith("--"):
            raise ValueError(f"unexpected argument {flag!r}; parameters are given as --name value")
        name, _, inline = flag[2:].partition("=")
        parameter = by_name.get(name.replace("-", "_"))
        if parameter is None:
            known = ", ".join(f"--{p.name.replace('_', '-')}" for p in operation.parameters) or "none"
            raise ValueError(f"{operation.id} has no parameter {flag!r} (its parameters: {known})")
        raw = inline or next(pairs, None)
        if raw is None:
            raise ValueError(f"{flag} needs a value")
        if parameter.location == "body":
            values["body"] = _body(operation, orjson.loads(raw))
            continue
        try:
            values[parameter.python_name] = _convert(parameter.json_type, raw)
        except ValueError as exc:
            raise ValueError(f"--{name}: expected {parameter.json_type}: {exc}") from None
    import inspect

    from esi_client.operations import load_module

    signature = inspect.signature(load_module(operation).sync).parameters
    missing = [
        p.name
        for p in operation.parameters
        if p.python_name not in values
        and p.python_name in signature
        and signature[p.python_name].default is inspect.Parameter.empty
        and p.python_name != "client"
    ]
    if missing:
        raise ValueError(f"{operation.id} needs {', '.join('--' + m.replace('_', '-') for m in missing)}")
    return values


def _body(operation: Any, data: Any) -> Any:
    """A JSON body as the generated function takes it (a model when the operation has one)."""
    import inspect
    import typing

    from esi_client import ESIClient
    from esi_client.operations import load_module

    module = load_module(operation)
    # ESIClient is imported only for type checkers in the generated modules: supply it here.
    hints = typing.get_type_hints(module.sync, globalns={**vars(module), "ESIClient": ESIClient})
    body_type = hints.get("body")
    for candidate in typing.get_args(body_type) or (body_type,):
        if inspect.isclass(candidate) and hasattr(candidate, "from_dict"):
            return candidate.from_dict(data)
    return data


def _show(data: Any, as_json: bool) -> None:
    if as_json or not isinstance(data, list | dict):
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if isinstance(data, dict):
        print_rows(["field", "value"], [[str(key), str(value)] for key, value in data.items()])
        return
    rows = [row if isinstance(row, dict) else {"value": row} for row in data]
    # At a terminal the widest tables are cut to ten columns; into a pipe every column stays.
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if console.is_terminal:
        columns = columns[:10]
    print_rows(
        [str(column) for column in columns],
        [[str(row.get(column, "")) for column in columns] for row in rows],
        caption=f"{len(rows)} rows",
    )


def _print_help(operation_id: str) -> None:
    from esi_cli.commands.operation_help import print_operation
    from esi_client.describe import describe
    from esi_client.operations import get_operation

    with one_line_errors():
        operation = get_operation(operation_id)
        _note_rename(operation_id, operation.id)
        described = describe(operation)
    print_operation(described)


def _note_rename(asked: str, current: str) -> None:
    """An old id still works; say once, on stderr (stdout may be piped), what it is called now."""
    from esi_client.operations import rename_of

    found = rename_of(asked)
    if found is not None and found[1] == current:
        typer.echo(f"note: CCP renamed {found[0]} to {current}; use {current} from now on", err=True)


def call_command(
    ctx: typer.Context,
    operation_id: Annotated[
        str | None, typer.Argument(help="Operation id (GetStatus) or Python name (get_status).")
    ] = None,
    character: Annotated[int | None, typer.Option(help="Whose token to use (default: character_id).")] = None,
    all_pages: Annotated[bool, typer.Option("--all-pages", help="Every page, with a progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_help: Annotated[
        bool, typer.Option("--help", "-h", help="This help; with an operation, its parameters.")
    ] = False,
) -> None:
    """Call any ESI operation: `esi call GetMarketsRegionIdOrders --region-id 10000002 --all-pages`.

    The operation's parameters are given as `--name value` (`esi call OP --help` lists them),
    a request body as `--body JSON`."""
    if operation_id is None or show_help:
        if operation_id is None:
            typer.echo(ctx.get_help())
            raise typer.Exit(0 if show_help else 2)
        _print_help(operation_id)
        return
    from esi_auth.errors import NoTokenError
    from esi_client.operations import get_operation, load_module

    with one_line_errors():
        operation = get_operation(operation_id)
        _note_rename(operation_id, operation.id)
        module = load_module(operation)
        arguments = _arguments(operation, list(ctx.args))
        app = sso_app() if operation.scopes else None
        client = esi_client(auth=app.auth if app else None)
        if character is not None:
            client = client.for_character(character)
        try:
            result = _run(operation, module, client, arguments, all_pages)
        except NoTokenError as missing:
            if app is None or not sys.stdin.isatty() or not typer.confirm(f"{missing} Log in now?"):
                raise
            app.login_with_browser(operation.scopes)
            result = _run(operation, module, client, arguments, all_pages)
    _show(to_jsonable(result), as_json)


def _run(operation: Any, module: Any, client: Any, arguments: dict[str, Any], pages: bool) -> Any:
    from esi_client.paging import Walk, iter_cursor

    if pages and operation.paging == "page":
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{operation.id}", total=None)
            walk = Walk(on_page=lambda done, total: progress.update(task, completed=done, total=total))
            return walk.all_pages(module.sync_detailed, client=client, **arguments)
    if pages and operation.paging == "cursor":
        return list(iter_cursor(module.sync, client=client, **arguments))
    if pages:
        fail(f"{operation.id} is not paged")
    return module.sync(client=client, **arguments)
