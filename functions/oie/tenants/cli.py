"""`oie tenant …`: create, change and show tenants; make API keys."""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from oie.cli.output import OieGroup, emit, json_option
from oie.tenants.models import Tenant

# Options of `tenant create` and the Tenant fields they set.
CREATE_FIELDS = (
    "tenant_id",
    "name",
    "redirect_domains",
    "default_landing_url",
    "allowed_origins",
    "go_hosts",
    "id_secret_ref",
    "ip_mode",
)


def tenant_record(tenant: Tenant) -> dict[str, Any]:
    """A tenant as commands show it; a local id secret (it holds the key itself) is masked."""
    record = tenant.model_dump(mode="json")
    if str(record["id_secret_ref"]).startswith("local:"):
        record["id_secret_ref"] = "local:…"
    return record


@click.group(cls=OieGroup)
def tenant() -> None:
    """Tenants."""


@tenant.command("create")
@click.option("--id", "tenant_id", required=True, help="Short id: lower-case letters, digits, dashes.")
@click.option("--name", required=True)
@click.option(
    "--redirect-domain",
    "redirect_domains",
    multiple=True,
    required=True,
    help="A domain /go may send people to (its subdomains too). Repeatable.",
)
@click.option("--landing", "default_landing_url", required=True, help="Default landing page URL.")
@click.option(
    "--origin",
    "allowed_origins",
    multiple=True,
    help="Website origin the pixel runs on. Repeatable.",
)
@click.option("--go-host", "go_hosts", multiple=True, help="Host serving this tenant's /go links. Repeatable.")
@click.option("--secret-ref", "id_secret_ref", default="", help="sm://projects/P/secrets/S/versions/V")
@click.option("--ip-mode", type=click.Choice(["truncate", "hash", "full", "none"]), default="truncate")
@click.option(
    "--replace",
    is_flag=True,
    help="Change an existing tenant: the options given replace those fields; every other field "
    "(alert channels, webhook key, reply domain …) and the id secret are kept.",
)
@json_option
@click.pass_context
def tenant_create(ctx: click.Context, /, replace: bool, **fields: object) -> None:
    """Create a tenant (or, with --replace, change the fields given)."""
    from oie.cli.context import app as connect
    from oie.tenants.service import create_tenant

    if replace:
        # Only what was typed: a default (say --ip-mode truncate) must not reset a stored value.
        fields = {k: v for k, v in fields.items() if ctx.get_parameter_source(k) != ParameterSource.DEFAULT}
    app = connect()
    existed = replace and app.tenants.get(str(fields["tenant_id"])) is not None
    saved = create_tenant(app.tenants, dict(fields), allow_local_secret=app.settings.env != "prod", replace=replace)
    emit(tenant_record(saved), summary=f"tenant {saved.tenant_id} {'updated' if existed else 'created'}")


@tenant.command("update")
@click.option("--tenant", "--id", "tenant_id", required=True)
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Set one field. Repeatable.")
@click.option("--add", "adds", multiple=True, metavar="FIELD=VALUE", help="Add to a list field. Repeatable.")
@click.option("--remove", "removes", multiple=True, metavar="FIELD=VALUE", help="Remove from a list field.")
@json_option
def tenant_update(tenant_id: str, sets: tuple[str, ...], adds: tuple[str, ...], removes: tuple[str, ...]) -> None:
    """Change single fields of a tenant; every other field stays as it is.

    Lists take commas or JSON (`--set redirect_domains=acme.com,acme.io`,
    `--add 'alert_channels={"kind":"slack","url":"https://hooks.slack.com/…"}'`);
    validated like `tenant create`.
    """
    from oie.cli.context import app as connect
    from oie.errors import NotFound
    from oie.tenants.service import parse_field_value, updatable_fields, update_tenant, with_items

    if not (sets or adds or removes):
        raise click.UsageError(
            f"nothing to change: give --set, --add or --remove FIELD=VALUE ({', '.join(updatable_fields())})"
        )
    app = connect()
    current = app.tenants.get(tenant_id)
    if current is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    changes: dict[str, object] = {}
    for option, pairs in (("--set", sets), ("--add", adds), ("--remove", removes)):
        for pair in pairs:
            name, sep, raw = pair.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or not name:
                raise click.UsageError(f"{option} takes FIELD=VALUE, not {pair!r}")
            value = parse_field_value(name, raw)
            if option != "--set":
                base = current.model_copy(update=changes) if name in changes else current
                value = with_items(base, name, value, add=option == "--add")
            changes[name] = value
    before = tenant_record(current)
    saved = update_tenant(app.tenants, tenant_id, changes)
    after = tenant_record(saved)
    changed = [k for k in after if after[k] != before[k]]
    _log_changes(app, tenant_id, changed, before, after)
    emit(after, summary=f"tenant {tenant_id}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))


# Fields whose values are credentials (a Slack webhook URL is one): the change log says only "changed".
SECRET_FIELDS = frozenset({"alert_channels", "inbound_parse_credential", "id_secret_ref"})


def _log_changes(app: Any, tenant_id: str, changed: list[str], before: dict[str, Any], after: dict[str, Any]) -> None:
    """Record raw field changes in the settings change log, as the settings commands do."""
    import getpass

    from oie.configuration.changelog import change
    from oie.outcomes.auth import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    actor = Actor(key_id="cli", label=f"cli:{user}", scopes=frozenset({"admin"}))
    for name in changed:
        entry = change(tenant_id, actor, name, before[name], after[name], app.clock.now(), secret=name in SECRET_FIELDS)
        app.settings_log.add(entry)


@tenant.command("show")
@click.option("--tenant", "--id", "tenant_id", required=True)
@json_option
def tenant_show(tenant_id: str) -> None:
    """A tenant's configuration."""
    from oie.cli.context import app as connect
    from oie.errors import NotFound

    found = connect().tenants.get(tenant_id)
    if found is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    emit(tenant_record(found))


@tenant.command("api-key")
@click.option("--tenant", "tenant_id", required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["outcomes:read", "outcomes:write", "campaigns:pause", "admin"]),
    help="Repeatable.",
)
@click.option("--label", default="", help="Who or what uses the key (shown as recorded_by).")
@json_option
def tenant_api_key(tenant_id: str, scopes: tuple[str, ...], label: str) -> None:
    """Create an API key (the admin scope also logs into the admin pages); shown once, stored hashed."""
    from oie.cli.context import app as connect
    from oie.errors import NotFound
    from oie.outcomes.auth import create_key

    app = connect()
    if app.tenants.get(tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    key = create_key(app.api_keys, tenant_id, list(scopes), label or f"{tenant_id} key", app.clock.now())
    emit(
        {"tenant_id": tenant_id, "scopes": list(scopes), "key": key},
        summary="the key is shown only now: keep it somewhere safe",
    )
