"""Commands: search, show, edit, delete (interactive: no Prefect flow run, heavy imports
deferred to the command that needs them)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from contacts.cli_app import JsonOption, RegionOption, Settings, app, fail
from contacts.errors import ContactsError

ContactRef = Annotated[str, typer.Argument(help="Contact id, or its phone in any format.")]
StatusOption = Annotated[str | None, typer.Option(help="active | dnc")]
CampaignOption = Annotated[str | None, typer.Option(help="Members of this campaign.")]
CalledFrom = Annotated[
    str | None, typer.Option(help="Last called on or after (date or ISO time, UTC).")
]
CalledTo = Annotated[str | None, typer.Option(help="Last called on or before (date or ISO time).")]
TRANSCRIPT_CHARS = 160
CLEARS = " ('' clears it)."
FIRST_NAME, LAST_NAME = ("--first-name", "--first_name"), ("--last-name", "--last_name")


@app.command("search")
def search_command(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(help="Name, email, company, or a phone in any format (4+ digits: part)."),
    ] = None,
    status: StatusOption = None,
    campaign: CampaignOption = None,
    called_from: CalledFrom = None,
    called_to: CalledTo = None,
    limit: Annotated[int, typer.Option(min=1, help="Contacts per page.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (the next page).")] = 0,
    count: Annotated[
        bool, typer.Option("--count", help="Count every match (a full scan).")
    ] = False,
    region: RegionOption = "US",
    as_json: JsonOption = False,
) -> None:
    """Find contacts by name, email, company or phone; filter by status, campaign, calls."""
    from contacts.manage import Filters, search

    settings: Settings = ctx.obj
    filters = Filters(query, status, campaign, called_from, called_to, region=region)
    try:
        page = search(settings.db, filters, limit=limit, offset=offset, count=count)
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(page.as_dict(), ensure_ascii=False))
        return
    typer.echo(format_page(page))


@app.command("show")
def show_command(
    ctx: typer.Context, ref: ContactRef, region: RegionOption = "US", as_json: JsonOption = False
) -> None:
    """One contact: fields, attributes, phone facts, lineage, DNC history, calls, campaigns."""
    from contacts.manage import jsonable, show

    settings: Settings = ctx.obj
    try:
        detail = show(settings.db, ref, region=region)
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(jsonable(detail), ensure_ascii=False))
        return
    typer.echo(format_detail(detail))


def _text(help_text: str, *names: str) -> Any:
    return typer.Option(*names, help=help_text)


@app.command("edit")
def edit_command(
    ctx: typer.Context,
    ref: ContactRef,
    phone: Annotated[str | None, _text("New phone, any format; must be unused.", "--phone")] = None,
    first_name: Annotated[str | None, _text(f"First name{CLEARS}", *FIRST_NAME)] = None,
    last_name: Annotated[str | None, _text(f"Last name{CLEARS}", *LAST_NAME)] = None,
    email: Annotated[str | None, _text(f"Validated as at import{CLEARS}", "--email")] = None,
    company: Annotated[str | None, _text(f"Company{CLEARS}", "--company")] = None,
    title: Annotated[str | None, _text(f"Job title{CLEARS}", "--title")] = None,
    attr: Annotated[
        list[str] | None, _text("KEY=VALUE (repeatable; KEY= removes it).", "--attr")
    ] = None,
    region: RegionOption = "US",
    as_json: JsonOption = False,
) -> None:
    """Change a contact's fields. A new phone is re-normalized and must be unused."""
    from contacts.manage import Changes, edit, parse_attributes

    settings: Settings = ctx.obj
    try:
        changes = Changes(
            phone, first_name, last_name, email, company, title, parse_attributes(attr or [])
        )
        result = edit(settings.db, ref, changes, region=region)
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    if not result.changed:
        typer.echo(f"Contact {result.id} ({result.phone}) already has these values: no change")
        return
    typer.echo(f"Updated contact {result.id} ({result.phone}): {', '.join(result.changed)}")
    if result.phone != result.previous_phone:
        typer.echo(f"Phone {result.previous_phone} -> {result.phone}")
        if result.dnc_sources:
            typer.echo(
                f"Note: {result.phone} is on the Do-Not-Call list "
                f"({', '.join(result.dnc_sources)}): the contact's status is dnc"
            )
        elif result.previous_phone_dnc:
            typer.echo(
                f"Note: the Do-Not-Call entry stays with {result.previous_phone} "
                f"({', '.join(result.previous_phone_dnc)}); {result.phone} is not suppressed, "
                "so the contact is now active"
            )


@app.command("delete")
def delete_command(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None, typer.Argument(help="Contact ids or phones (or use filters).")
    ] = None,
    status: StatusOption = None,
    campaign: CampaignOption = None,
    search: Annotated[str | None, typer.Option(help="As 'contacts search QUERY'.")] = None,
    called_from: CalledFrom = None,
    called_to: CalledTo = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    region: RegionOption = "US",
    as_json: JsonOption = False,
) -> None:
    """Delete contacts for good (asks first). Their DNC entries and call records stay."""
    from contacts.manage import Filters, delete, select_for_delete

    settings: Settings = ctx.obj
    filters = Filters(search, status, campaign, called_from, called_to, region=region)
    try:
        ids = select_for_delete(settings.db, refs or [], filters)
        if ids and not yes:
            _confirm_delete(len(ids))
        deleted = delete(settings.db, ids) if ids else 0
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps({"deleted": deleted}))
    elif not ids:
        typer.echo("No contacts match: nothing was deleted")
    else:
        typer.echo(f"Deleted {_contacts(deleted)}; their DNC entries are kept")


def _confirm_delete(count: int) -> None:
    if sys.stdin is None or not sys.stdin.isatty():
        raise ContactsError(
            f"refusing to delete {_contacts(count)} without confirmation: "
            "stdin is not a terminal; pass --yes"
        )
    typer.echo(f"This deletes {_contacts(count)} for good.", err=True)
    if not typer.confirm(f"Delete {_contacts(count)}?", err=True):
        typer.echo("Nothing was deleted.", err=True)
        raise typer.Exit(1)


def _contacts(count: int) -> str:
    return f"{count:,} contact" + ("" if count == 1 else "s")


def format_page(page: Any) -> str:
    if not page.contacts:
        if page.total and page.offset:
            return f"No contacts past {page.offset:,} (there are {page.total:,})"
        return "No contacts match"
    lines = [
        f"{'id':>9}  {'phone':16} {'name':24} {'email':28} {'company':20} {'status':6} "
        f"{'calls':>5}  {'last called':11} campaigns"
    ]
    for row in page.contacts:
        name = " ".join(filter(None, (row["first_name"], row["last_name"])))
        last = row["last_called_at"].date().isoformat() if row["last_called_at"] else "-"
        lines.append(
            f"{row['id']:>9}  {row['phone']:16} {_cut(name, 24)} {_cut(row['email'], 28)} "
            f"{_cut(row['company'], 20)} {row['status']:6} {row['call_count']:>5}  {last:11} "
            f"{', '.join(row['campaigns'])}"
        )
    first, last = page.offset + 1, page.offset + len(page.contacts)
    footer = f"Contacts {first:,}-{last:,}"
    if page.total is not None:
        footer += f" of {page.total:,}"
    if page.more:
        footer += f"; next page: --offset {last}"
        if page.total is None:
            footer += " (how many in all: --count)"
    return "\n".join([*lines, footer])


def format_detail(detail: dict[str, Any]) -> str:
    """The `contacts show` text: the record, then campaigns, DNC history and calls."""
    name = " ".join(filter(None, (detail["first_name"], detail["last_name"]))) or "(no name)"
    status = detail["status"]
    if detail["dnc_sources"]:
        status += " (suppressed by " + ", ".join(s["source"] for s in detail["dnc_sources"]) + ")"
    phone = detail["phone"] + (
        f" ext. {detail['phone_extension']}" if detail["phone_extension"] else ""
    )
    facts = ", ".join(
        filter(
            None,
            (detail["phone_region"], detail["line_type"], "; ".join(detail["time_zones"] or [])),
        )
    )
    created = f"{_when(detail['created_at'])} by batch {detail['created_batch_id']}"
    if detail.get("created_batch_source"):
        created += f" ({detail['created_batch_source']}, row {detail['created_row']})"
    lines = [
        f"Contact {detail['id']}: {name}",
        f"  {'phone':12} {phone}",
        f"  {'phone facts':12} {facts or '-'}",
        f"  {'status':12} {status}",
        *(f"  {label:12} {detail[key] or '-'}" for label, key in (
            ("email", "email"), ("company", "company"), ("title", "title"))),
        f"  {'created':12} {created}",
        f"  {'updated':12} {_when(detail['updated_at'])}, last batch {detail['last_batch_id']}",
        f"  {'calls':12} {detail['call_count']}, last {_when(detail['last_called_at'])}",
    ]  # fmt: skip
    attributes = detail["attributes"] or {}
    lines.append("Attributes" + ("" if attributes else ": none"))
    lines += [f"  {key}: {value}" for key, value in attributes.items()]
    campaigns = detail["campaigns"]
    lines.append("Campaigns" + ("" if campaigns else ": none"))
    lines += [
        f"  {row['campaign']}  added {_when(row['added_at'])}"
        + (f" by batch {row['batch_id']}" if row["batch_id"] else "")
        for row in campaigns
    ]
    history = detail["dnc_history"]
    lines.append("DNC history" + ("" if history else ": none"))
    lines += [
        f"  {_when(row['occurred_at'])}  {row['action']:6} {row['source']:8} "
        f"{row['reason'] or ''}" + (f" (by {row['actor']})" if row["actor"] else "")
        for row in history
    ]
    calls = detail["calls"]
    lines.append("Calls" + ("" if calls else ": none"))
    for call in calls:
        lines.append(
            f"  {_when(call['started_at'])}  {call['direction']:8} {call['outcome'] or '-':14} "
            f"{call['sentiment'] or '-':8} {_duration(call['duration_seconds'])}"
            + (f"  campaign {call['campaign']}" if call["campaign"] else "")
            + (f"  to {call['phone']}" if call["phone"] != detail["phone"] else "")
        )
        if call["recording_url"]:
            lines.append(f"      recording  {call['recording_url']}")
        if call["summary"]:
            lines.append(f"      summary    {call['summary']}")
        if call["transcript"]:
            text = " ".join(call["transcript"].split())
            if len(text) > TRANSCRIPT_CHARS:
                text = text[: TRANSCRIPT_CHARS - 1] + "… (all of it: --json)"
            lines.append(f"      transcript {text}")
    return "\n".join(lines)


def _when(value: Any) -> str:
    if value is None:
        return "never"
    from datetime import UTC

    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def _cut(value: str | None, width: int) -> str:
    text = value or ""
    return (text[: width - 1] + "…" if len(text) > width else text).ljust(width)
