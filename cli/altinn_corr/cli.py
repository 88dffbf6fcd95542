"""altinn-corr: tokens, uploads, send and status against the Altinn Correspondence API.

Every command takes the connection and token options (also from ALTINN_CORR_* environment
variables); ``--json`` prints machine-readable output on stdout. Errors go to stderr (as JSON
with ``--json``) and set the exit code (see ``altinn_corr.errors`` and docs/cli.md).
"""

from __future__ import annotations

import csv
import functools
import io
import hashlib
import json
import os
import re
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import click

from altinn_corr import __version__
from altinn_corr import errors as exits
from altinn_corr.api import ApiClient
from altinn_corr.errors import ApiError, CliError, Interrupted, UsageProblem, WaitFailed, WaitTimeout
from altinn_corr.tokens import (
    DEFAULT_ALTINN_URL,
    DEFAULT_MASKINPORTEN_URL,
    DEFAULT_ORG,
    MODES,
    TokenOptions,
    TokenProvider,
)
from altinn_corr import direct_upload
from altinn_corr.recipients import InvalidRecipient
from altinn_corr.recipients import normalize as normalize_recipient
from altinn_corr.uploads import (
    MIB,
    ResumeState,
    Uploader,
    UploadOutcome,
    UploadSpec,
    check_chunk_size,
    check_file_type,
    file_md5,
    with_retries,
)

DEFAULT_BASE_URL = "http://localhost:7071"
MAX_RECIPIENTS = 500
ORGANIZATION_URN = "urn:altinn:organization:identifier-no:"
PENDING_CORRESPONDENCE = {"Initialized", "ReadyForPublish"}
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Env:
    """What the common options give a command: output mode, the API client, the token."""

    def __init__(self, base_url: str, as_json: bool, quiet: bool, tokens: TokenOptions) -> None:
        self.base_url = base_url
        self.as_json = as_json
        self.quiet = quiet
        self.token_options = tokens
        self.tokens = TokenProvider(tokens)
        self._client: ApiClient | None = None

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = ApiClient(self.base_url, self.tokens)
        return self._client

    # Output: results on stdout, everything else (progress, notes, errors) on stderr.
    def out(self, data: Any, human: Callable[[], None]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            human()

    def note(self, message: str) -> None:
        if not self.quiet and not self.as_json:
            click.echo(message, err=True)

    def progress(self) -> Any:
        if self.quiet or self.as_json:
            return None
        return RichProgress()


class RichProgress:
    """A rich progress bar on stderr: bytes, rate, ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: Any = None

    def start(self, description: str, total: int, completed: int = 0) -> None:
        self.done()
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, completed=completed)

    def advance(self, amount: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def set(self, completed: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=completed)

    def done(self) -> None:
        if self._task is not None:
            self._progress.stop()
            self._progress.remove_task(self._task)
            self._task = None


# --- common options ------------------------------------------------------------------------------

def _option(*names: str, envvar: str | list[str] | None = None, **kwargs: Any) -> Callable[[Any], Any]:
    return click.option(*names, envvar=envvar, show_envvar=envvar is not None, **kwargs)


COMMON_OPTIONS = [
    _option("--base-url", envvar="ALTINN_CORR_BASE_URL", default=DEFAULT_BASE_URL, show_default=True,
            help="The API's base URL."),
    _option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON on stdout)."),
    _option("-q", "--quiet", is_flag=True, help="No progress bars or notes."),
    _option("--auth", envvar="ALTINN_CORR_AUTH", type=click.Choice(MODES), default="dev", show_default=True,
            help="How to get a token: dev (local dev key), maskinporten, altinn (Maskinporten, "
                 "exchanged for an Altinn token), entra (Entra ID client credentials)."),
    _option("--token", envvar="ALTINN_CORR_TOKEN", help="Use this bearer token as is (no --auth mode)."),
    _option("--client-id", envvar="ALTINN_CORR_CLIENT_ID", help="Maskinporten or Entra ID client id."),
    _option("--key-id", envvar="ALTINN_CORR_KEY_ID", help="kid of the Maskinporten key (default: the JWK's kid)."),
    _option("--private-key", envvar="ALTINN_CORR_PRIVATE_KEY", type=click.Path(dir_okay=False),
            help="RSA key, PEM or JWK file (Maskinporten; dev: default .devkeys/private.pem). "
                 "The key itself may come in ALTINN_CORR_PRIVATE_KEY_PEM."),
    _option("--scope", envvar="ALTINN_CORR_SCOPE",
            help="Scopes (Maskinporten default: altinn:correspondence.write altinn:serviceowner; "
                 "Entra ID: required, e.g. api://altinn-correspondence/.default)."),
    _option("--maskinporten-url", envvar="ALTINN_CORR_MASKINPORTEN_URL", default=DEFAULT_MASKINPORTEN_URL,
            show_default=True, help="Maskinporten issuer (the assertion's aud); token endpoint = URL + token."),
    _option("--altinn-url", envvar="ALTINN_CORR_ALTINN_URL", default=DEFAULT_ALTINN_URL, show_default=True,
            help="Altinn platform for --auth altinn (token exchange)."),
    _option("--tenant-id", envvar=["ALTINN_CORR_TENANT_ID", "AZURE_TENANT_ID"], help="Entra ID tenant."),
    _option("--authority", envvar="ALTINN_CORR_AUTHORITY",
            help="Entra ID authority URL (default https://login.microsoftonline.com/TENANT)."),
    _option("--client-secret", envvar="ALTINN_CORR_CLIENT_SECRET",
            help="Entra ID client secret (prefer the environment variable to the option)."),
    _option("--certificate", envvar="ALTINN_CORR_CERTIFICATE", type=click.Path(dir_okay=False),
            help="Entra ID client certificate, PEM (with the key, or the key in --private-key)."),
    _option("--org", envvar="ALTINN_CORR_ORG", default=DEFAULT_ORG, show_default=True,
            help="dev: the organisation number in the token."),
    _option("--issuer", envvar="ALTINN_CORR_DEV_ISSUER",
            help="dev: the token's issuer (default: ALTINN_TOKEN_ISSUER of the local settings)."),
    _option("--no-cache", envvar="ALTINN_CORR_NO_CACHE", is_flag=True, help="Do not read or write the token cache."),
]
_COMMON_NAMES = (
    "base_url", "as_json", "quiet", "auth", "token", "client_id", "key_id", "private_key", "scope",
    "maskinporten_url", "altinn_url", "tenant_id", "authority", "client_secret", "certificate", "org",
    "issuer", "no_cache",
)


def command(group: click.Group, name: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """A subcommand with the common options; the function gets ``env`` instead of them, and
    CliErrors become messages and exit codes."""

    def decorator(function: Callable[..., Any]) -> Any:
        @functools.wraps(function)
        def run(**options: Any) -> None:
            common = {name: options.pop(name) for name in _COMMON_NAMES}
            env = _env(common)
            try:
                function(env, **options)
            except CliError as exc:
                _fail(env, exc)
            except KeyboardInterrupt:
                _fail(env, Interrupted("Interrupted. Re-run the same command to go on."))

        def holder() -> None:
            pass

        for option in reversed(COMMON_OPTIONS):
            holder = option(holder)
        # The command's own options first in --help, then the common ones.
        run.__click_params__ = holder.__click_params__ + list(getattr(run, "__click_params__", []))  # type: ignore[attr-defined]
        return group.command(name, context_settings=CONTEXT, **kwargs)(run)

    return decorator


def _env(common: dict[str, Any]) -> Env:
    import os

    tokens = TokenOptions(
        mode=common["auth"],
        token=common["token"],
        client_id=common["client_id"],
        key_id=common["key_id"],
        private_key=common["private_key"],
        private_key_pem=os.environ.get("ALTINN_CORR_PRIVATE_KEY_PEM") or None,
        scope=common["scope"],
        maskinporten_url=common["maskinporten_url"],
        altinn_url=common["altinn_url"],
        tenant_id=common["tenant_id"],
        authority=common["authority"],
        client_secret=common["client_secret"],
        certificate=common["certificate"],
        org=common["org"],
        issuer=common["issuer"],
        cache=not common["no_cache"],
    )
    return Env(common["base_url"], common["as_json"], common["quiet"], tokens)


def _fail(env: Env, exc: CliError, code: int | None = None) -> None:
    exit_code = code if code is not None else exc.exit_code
    if env.as_json:
        body = exc.as_json()
        body["exitCode"] = exit_code
        click.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        prefix = "" if isinstance(exc, Interrupted) else "Error: "
        click.secho(f"{prefix}{exc.message}", fg="red", err=True)
        for line in exc.details():
            click.echo(f"  {line}", err=True)
        if exc.hint:
            click.echo(f"Hint: {exc.hint}", err=True)
    sys.exit(exit_code)


@click.group(context_settings=CONTEXT, epilog="Exit codes: 0 ok, 1 error, 2 usage or invalid input (nothing sent), 3 API refused, "
             "4 token/authentication, 5 unavailable (retry; uploads resume), 6 ended Failed, 7 wait timed out, "
             "8 bulk send partly done (receipt written: re-run to send the rest), 130 interrupted.")
@click.version_option(__version__, prog_name="altinn-corr")
def main() -> None:
    """Command-line client for service owners of the Altinn Correspondence API.

    Get a token, upload attachments (chunked and resumable), send correspondences and follow
    their status. Options can also be set with ALTINN_CORR_* environment variables.
    """


# --- token -----------------------------------------------------------------------------------------

@command(main, "token")
def token_command(env: Env) -> None:
    """Print a bearer token (cached until shortly before it expires).

    \b
    Modes (--auth):
      dev           Altinn-style token signed with the local dev key (.devkeys/private.pem)
      maskinporten  JWT grant: --client-id, --key-id, --private-key, --scope
      altinn        Maskinporten token exchanged at --altinn-url for an Altinn token
      entra         Entra ID client credentials (msal): --tenant-id, --client-id,
                    ALTINN_CORR_CLIENT_SECRET or --certificate, --scope

    \b
    Example:
      curl -H "Authorization: Bearer $(altinn-corr token)" http://localhost:7071/...
    """
    token = env.tokens.token()
    env.out(
        {"accessToken": token.access_token, "expiresAt": int(token.expires_at), "mode": token.mode,
         "fromCache": token.from_cache},
        lambda: click.echo(token.access_token),
    )


# --- upload ----------------------------------------------------------------------------------------

def _upload_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        _option("--chunk-size", "chunk_mib", envvar="ALTINN_CORR_CHUNK_SIZE_MIB", type=int, default=32,
                show_default=True, help="Chunk size in MiB (a multiple of 8, at most 88). Larger files are "
                                        "sent in chunks; a smaller one in one request."),
        _option("--chunked", is_flag=True, help="Send in chunks even when the file fits in one."),
    ]):
        function = option(function)
    return function


@command(main, "upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_option("--resource", envvar="ALTINN_CORR_RESOURCE", required=True, help="Resource id the attachment belongs to.")
@_option("--file-name", help="File name in the service (default: the file's name).")
@_option("--display-name", help="Display name.")
@_option("--senders-reference", help="Your reference (default: the file name).")
@_option("--expiration-days", type=int, help="expirationInDays.")
@_upload_options
@_option("--resume", "resume_id", metavar="ATTACHMENT_ID", help="Resume the upload of this attachment.")
@_option("--new", is_flag=True, help="Start a new attachment even if an unfinished upload of this file is known.")
@_option("--direct", is_flag=True, help="Upload straight to storage with an upload URL (the default above "
                                         "256 MiB when the server offers it; --chunked turns that off).")
@_option("--wait", is_flag=True, help="Wait until the attachment is Published (or Failed).")
@_option("--timeout", type=float, default=600, show_default=True, help="Seconds --wait waits.")
def upload_command(
    env: Env,
    file: Path,
    resource: str,
    file_name: str | None,
    display_name: str | None,
    senders_reference: str | None,
    expiration_days: int | None,
    chunk_mib: int,
    chunked: bool,
    resume_id: str | None,
    new: bool,
    direct: bool,
    wait: bool,
    timeout: float,
) -> None:
    """Initialize an attachment and upload FILE; prints the attachment id.

    The MD5 of the file is sent as the checksum. Files larger than the chunk size go in chunks
    (Content-Range); if an upload is interrupted, running the same command again resumes it
    from what the service has stored. With --direct (by default above 256 MiB, when the server
    offers it) the file goes straight to storage through an upload URL; --direct --resume ID
    sends it again.
    """
    spec = UploadSpec(
        path=file,
        resource=resource,
        file_name=file_name,
        display_name=display_name,
        senders_reference=senders_reference,
        expiration_days=expiration_days,
        chunk_size=_chunk_size(chunk_mib),
        force_chunked=chunked,
        resume_id=_guid(resume_id, "--resume") if resume_id else None,
        new=new,
    )
    uploader = Uploader(env.client, ResumeState(), env.progress())
    outcome = None
    if direct or (not chunked and resume_id is None and file.stat().st_size > direct_upload.DIRECT_ABOVE):
        outcome = _upload_direct(env, spec, uploader, explicit=direct)
    if outcome is None:
        outcome = uploader.upload(spec)
    overview = outcome.overview
    if outcome.resumed:
        env.note(f"Resumed attachment {outcome.attachment_id}: sent {outcome.sent_bytes} bytes.")
    if wait:
        overview = uploader.wait_for_upload(outcome.attachment_id, timeout=timeout)
    env.out(overview, lambda: click.echo(outcome.attachment_id))
    env.note(f"Status: {overview.get('status')}")


def _upload_direct(env: Env, spec: UploadSpec, uploader: Uploader, *, explicit: bool) -> UploadOutcome | None:
    """The direct upload (altinn_corr.direct_upload); None: not offered, use the upload endpoint
    for the attachment initialized here (``spec.resume_id``), without hashing the file again.

    Resume: the attachment is remembered (its own key in the state file, which the chunked
    uploader never reads) until complete answers, so running the same command again continues
    with the same attachment: a new URL, the file sent again, complete."""
    check_file_type(spec.file_name or spec.path.name)  # before hashing: a refused file costs nothing
    stat = spec.path.stat()
    key = "direct:" + ResumeState.key(env.client.base_url, spec, stat.st_size, stat.st_mtime_ns)
    state = uploader.state
    attachment_id = spec.resume_id
    resumed = attachment_id is not None
    if attachment_id is None and not spec.new and state is not None:
        entry = state.get(key)
        if entry:
            attachment_id, resumed = entry["attachmentId"], True
    if attachment_id is None:
        checksum = file_md5(spec.path, uploader.progress)
        attachment_id = with_retries(lambda: env.client.initialize_attachment(spec.initialize_body(checksum)))
        if state is not None:
            state.put(key, attachment_id, checksum)
    try:
        overview = direct_upload.upload(env.client, attachment_id, spec.path, uploader.progress)
    except direct_upload.NotOffered:
        if state is not None:
            state.delete(key)
        if explicit:
            raise CliError("this server does not offer direct uploads (no upload/url endpoint)",
                           hint=f"upload without --direct: add --resume {attachment_id}") from None
        spec.resume_id = attachment_id
        return None
    except ApiError as exc:
        if resumed and exc.error_code == 2005:  # completed meanwhile (the answer was lost), or failed
            overview = env.client.attachment(attachment_id)
            if overview.get("status") in ("Published", "UploadProcessing"):
                if state is not None:
                    state.delete(key)
                return UploadOutcome(attachment_id, overview, True, 0)
        if state is not None and exc.error_code is not None:
            state.delete(key)  # the API's verdict on this attachment (2005, 2008...): the next run starts afresh
        raise
    if state is not None:
        state.delete(key)
    return UploadOutcome(attachment_id, overview, resumed, stat.st_size)


def _chunk_size(mib: int) -> int:
    try:
        return check_chunk_size(mib * MIB)
    except UsageProblem as exc:
        raise click.BadParameter(exc.message, param_hint="--chunk-size") from None


def _guid(value: str, option: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise click.BadParameter("must be a GUID", param_hint=option) from None


# --- send ------------------------------------------------------------------------------------------

@command(main, "send")
@click.argument("request_file", metavar="[REQUEST.json]", required=False, type=click.File("r", encoding="utf-8"))
@_option("--resource", help="correspondence.resourceId")
@_option("--title", help="content.messageTitle")
@_option("--summary", help="content.messageSummary")
@_option("--body", help="content.messageBody (@FILE reads it from a file)")
@_option("--language", help="content.language (default nb when the request has none)")
@_option("--senders-reference", help="correspondence.sendersReference (default: generated)")
@_option("--recipient", "recipients", multiple=True,
         help="Recipient: organisation number (9 digits), national identity number (11) or URN. Repeatable.")
@_option("--recipients-csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
         help="CSV of recipients: a 'recipient' column, or the first column. Every row is checked "
              "before the first request; a receipt (CSV.receipt.json) records what was sent, so "
              "re-running the same command sends only the rest.")
@_option("--receipt", "receipt_path", type=click.Path(dir_okay=False, path_type=Path),
         help="Receipt file of a bulk send (default: the CSV's name + .receipt.json).")
@_option("--publish-time", help="correspondence.requestedPublishTime (ISO 8601).")
@_option("--attach", "attach", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
         help="Upload this file first, wait until it is Published, and attach it. Repeatable.")
@_upload_options
@_option("--wait", is_flag=True, help="Follow each correspondence until Published or Failed.")
@_option("--timeout", type=float, default=300, show_default=True, help="Seconds --wait (and --attach) wait.")
def send_command(
    env: Env,
    request_file: Any,
    resource: str | None,
    title: str | None,
    summary: str | None,
    body: str | None,
    language: str | None,
    senders_reference: str | None,
    recipients: tuple[str, ...],
    recipients_csv: Path | None,
    receipt_path: Path | None,
    publish_time: str | None,
    attach: tuple[Path, ...],
    chunk_mib: int,
    chunked: bool,
    wait: bool,
    timeout: float,
) -> None:
    """Initialize a correspondence from REQUEST.json and/or flags; prints its ids and statuses.

    REQUEST.json has the API's request shape ({"correspondence": {...}, "recipients": [...],
    "existingAttachments": [...]}); "-" reads it from stdin. Flags override its fields;
    recipients from --recipient/--recipients-csv replace the file's. More than 500 recipients
    are sent in several requests.
    """
    request = _load_request(request_file)
    correspondence = request.setdefault("correspondence", {})
    if not isinstance(correspondence, dict):
        raise UsageProblem("the request's correspondence must be a JSON object")
    content = correspondence.setdefault("content", {})
    if resource:
        correspondence["resourceId"] = resource
    if senders_reference:
        correspondence["sendersReference"] = senders_reference
    if publish_time:
        correspondence["requestedPublishTime"] = _iso(publish_time)
    for field, value in (("messageTitle", title), ("messageSummary", summary), ("language", language)):
        if value is not None:
            content[field] = value
    if body is not None:
        content["messageBody"] = _read_at(body)
    content.setdefault("language", "nb")

    sources = [(f"--recipient #{i + 1}", value) for i, value in enumerate(recipients)]
    if recipients_csv is not None:
        sources += _csv_rows(recipients_csv)
    elif not sources and isinstance(request.get("recipients"), list):
        sources = [(f"recipients[{i}] of the request file", str(v)) for i, v in enumerate(request["recipients"])]
    if not sources:
        raise UsageProblem("no recipients: give --recipient, --recipients-csv or recipients in the request file")
    # Every recipient of every batch is checked before the first request (all or nothing).
    checked = _check_recipients(sources)
    if request.get("idempotentKey") and len(checked) > 1:
        raise UsageProblem("an idempotentKey works with one recipient only (the API answers 400/1047)")
    for path in attach:
        check_file_type(path.name)

    receipt: Receipt | None = None
    if recipients_csv is not None or receipt_path is not None:
        digest = _digest({"request": request, "attach": [[p.name, p.stat().st_size] for p in attach]})
        receipt = Receipt.open(receipt_path or recipients_csv.with_name(recipients_csv.name + ".receipt.json"),
                               digest, env.base_url)
        if receipt.senders_reference:
            correspondence["sendersReference"] = receipt.senders_reference
    correspondence.setdefault("sendersReference", f"altinn-corr-{uuid.uuid4().hex[:12]}")

    attachment_ids: list[str] = []
    if receipt is not None and receipt.attachment_ids is not None:
        request["existingAttachments"] = list(receipt.attachment_ids)  # uploaded by the first run
    elif attach:
        resource_id = correspondence.get("resourceId")
        if not isinstance(resource_id, str) or not resource_id:
            raise UsageProblem("--attach needs the correspondence's resource (--resource)")
        uploader = Uploader(env.client, ResumeState(), env.progress())
        existing = list(request.get("existingAttachments") or [])
        for path in attach:
            outcome = uploader.upload(UploadSpec(
                path=path, resource=resource_id, chunk_size=_chunk_size(chunk_mib), force_chunked=chunked,
            ))
            overview = uploader.wait_for_upload(outcome.attachment_id, timeout=timeout)
            env.note(f"Attachment {outcome.attachment_id} ({path.name}): {overview.get('status')}")
            existing.append(outcome.attachment_id)
        request["existingAttachments"] = existing
    if receipt is not None:
        receipt.senders_reference = correspondence["sendersReference"]
        receipt.attachment_ids = list(request.get("existingAttachments") or [])
        receipt.save()

    rows: list[dict[str, Any]] = []
    if receipt is not None:
        _resolve_unknown(env, receipt, correspondence)
    done = receipt.sent_recipients() if receipt is not None else {}
    if done:
        rows += [dict(row) for row in done.values()]
        env.note(f"Receipt {receipt.path}: {len(done)} recipient(s) already sent; sending the other "
                 f"{sum(1 for c in checked if c.recipient not in done)}.")
    todo = [c for c in checked if c.recipient not in done]
    batches = [todo[i:i + MAX_RECIPIENTS] for i in range(0, len(todo), MAX_RECIPIENTS)]
    failure: CliError | None = None
    for number, batch in enumerate(batches, 1):
        where = f"batch {number} of {len(batches)} ({_where(batch)})"
        try:
            answer = env.client.initialize_correspondence({**request, "recipients": [c.recipient for c in batch]})
        except (CliError, KeyboardInterrupt) as exc:
            failure = _batch_failure(exc, where, batch, rows, receipt, len(todo) - sum(
                len(b) for b in batches[:number - 1]))
            break
        created = [
            {"correspondenceId": c.get("correspondenceId"), "recipient": c.get("recipient"), "status": c.get("status")}
            for c in answer.get("correspondences") or []
        ]
        by_recipient = {str(c["recipient"]).lower(): c for c in created}
        for item in batch:
            row = by_recipient.get(item.recipient)
            if row is not None:
                row["source"] = item.where
        rows += created
        attachment_ids += [a for a in answer.get("attachmentIds") or [] if a not in attachment_ids]
        if receipt is not None:
            receipt.record_batch(batch, created)
            receipt.save()

    if failure is not None and not rows:
        raise failure  # nothing was created: stdout stays empty
    if failure is None and wait:
        failure = _follow(env, rows, timeout)
    attachment_ids = attachment_ids or list(request.get("existingAttachments") or [])
    result: dict[str, Any] = {"correspondences": rows, "attachmentIds": attachment_ids}
    if receipt is not None:
        result["receipt"] = str(receipt.path)
        result["complete"] = all(c.recipient in receipt.sent_recipients() for c in checked)
    env.out(result, lambda: _print_rows(rows, attachment_ids))
    if failure is not None:
        raise failure


class Checked:
    """One recipient after the local check: its normalised form and where it came from."""

    def __init__(self, where: str, recipient: str, row: int | None) -> None:
        self.where = where
        self.recipient = recipient
        self.row = row


def _check_recipients(sources: list[tuple[str, str]]) -> list[Checked]:
    checked: list[Checked] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for where, value in sources:
        try:
            recipient = normalize_recipient(_recipient(value))
        except InvalidRecipient as exc:
            problems.append(f"{where}: {exc}")
            continue
        if recipient in seen:
            problems.append(f"{where}: the same recipient as {seen[recipient]}")
            continue
        seen[recipient] = where
        row = int(where.split(" row ")[1].split(",")[0]) if " row " in where else None
        checked.append(Checked(where, recipient, row))
    if problems:
        shown = problems[:20]
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise UsageProblem(f"{len(problems)} invalid recipient(s); nothing was sent:\n" + "\n".join(shown) + more)
    return checked


def _where(batch: list[Checked]) -> str:
    rows = [c.row for c in batch if c.row is not None]
    if rows:
        return f"CSV rows {rows[0]}-{rows[-1]}"
    return f"{batch[0].where} to {batch[-1].where}"


_RECIPIENT_PATH = re.compile(r"(?:\$\.)?recipients\[(\d+)\]", re.IGNORECASE)


def map_recipient_paths(text: str, batch: list[Checked]) -> str:
    """``$.recipients[49]`` in a problem of one batch -> the CSV row (or flag) it came from."""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index < len(batch):
            return f"{batch[index].where} ({match.group(0)} of the batch)"
        return match.group(0)

    return _RECIPIENT_PATH.sub(replace, text)


class BatchFailed(CliError):
    """A batch of a bulk send failed after earlier ones were created (or none were)."""

    def __init__(self, message: str, exit_code: int, lines: list[str], hint: str | None, cause: CliError | None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        self.lines = lines
        self.cause = cause

    def details(self) -> list[str]:
        return self.lines

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        if isinstance(self.cause, ApiError):
            body["status"] = self.cause.status
            body["problem"] = self.cause.problem
        body["rows"] = self.lines
        return body


def _batch_failure(exc: BaseException, where: str, batch: list[Checked], rows: list[dict[str, Any]],
                   receipt: Receipt | None, not_sent: int) -> BatchFailed:
    if isinstance(exc, KeyboardInterrupt):
        cause: CliError | None = None
        message = f"interrupted while sending {where}"
        code = exits.EXIT_INTERRUPTED
    else:
        assert isinstance(exc, CliError)
        cause = exc
        message = f"{where} failed: {map_recipient_paths(exc.message, batch)}"
        code = exc.exit_code
    lines = [map_recipient_paths(line, batch) for line in (cause.details() if cause else [])]
    if receipt is not None:
        receipt.record_failure(batch, message, unknown=not isinstance(exc, ApiError) or exc.status >= 500)
        receipt.save()
    if rows:
        if code != exits.EXIT_INTERRUPTED:
            code = exits.EXIT_PARTIAL
        message += f"; {len(rows)} recipient(s) were sent (listed on stdout), {not_sent} not"
    hint = None
    if receipt is not None:
        hint = f"the receipt {receipt.path} records what was sent: re-run the same command to send only the rest"
    return BatchFailed(message, code, lines, hint, cause)


def _resolve_unknown(env: Env, receipt: Receipt, correspondence: dict[str, Any]) -> None:
    """A batch whose answer was lost (network, 5xx, Ctrl-C) may have been stored. A request of
    several recipients cannot carry an idempotentKey (400/1047), so look for it instead: search
    by resource and sendersReference, and record every correspondence not in the receipt yet
    as sent (requests are all or nothing, so a batch is found whole or not at all)."""
    unknown = [b for b in receipt.data["batches"] if b.get("state") == "unknown"]
    if not unknown or not receipt.senders_reference:
        return
    from urllib.parse import urlencode

    from altinn_corr.api import API

    known = {str(r["correspondenceId"]) for r in receipt.sent_recipients().values()}
    params = {"resourceId": str(correspondence.get("resourceId") or ""), "role": "Sender",
              "sendersReference": receipt.senders_reference}
    found: list[dict[str, Any]] = []
    while True:
        page = env.client.request("GET", f"{API}/correspondence?{urlencode(params)}").json()
        for correspondence_id in page.get("ids") or []:
            if str(correspondence_id) not in known:
                overview = env.client.correspondence(str(correspondence_id))
                found.append({"correspondenceId": correspondence_id, "recipient": overview.get("recipient"),
                              "status": overview.get("status")})
        if not page.get("continuationToken"):
            break
        params["continuationToken"] = page["continuationToken"]
    for batch in unknown:
        batch["state"] = "resolved"  # kept for the record; what was found is a batch of its own
    if found:
        env.note(f"Found {len(found)} correspondence(s) of a batch whose answer was lost; not sending them again.")
        receipt.data["batches"].append({"batch": len(receipt.data["batches"]) + 1, "rows": "found by search",
                                        "state": "sent", "idempotentKey": None, "correspondences": found})
    receipt.save()


def _digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Receipt:
    """What a bulk send created, per batch, in a JSON file next to the CSV; a re-run reads it
    and sends only the recipients it does not list as sent."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def open(cls, path: Path, digest: str, base_url: str) -> "Receipt":
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageProblem(f"cannot read the receipt {path} ({exc})") from None
            if data.get("input") != digest or data.get("baseUrl") != base_url:
                raise UsageProblem(
                    f"the receipt {path} was written for another message or API; move it away to send "
                    "this as a new message, or give --receipt PATH"
                )
            return cls(path, data)
        return cls(path, {"receipt": "altinn-corr send", "version": 1, "baseUrl": base_url, "input": digest,
                          "created": datetime.now().astimezone().isoformat(timespec="seconds"),
                          "sendersReference": None, "attachmentIds": None, "batches": []})

    @property
    def senders_reference(self) -> str | None:
        return self.data.get("sendersReference")

    @senders_reference.setter
    def senders_reference(self, value: str) -> None:
        self.data["sendersReference"] = value

    @property
    def attachment_ids(self) -> list[str] | None:
        return self.data.get("attachmentIds")

    @attachment_ids.setter
    def attachment_ids(self, value: list[str]) -> None:
        self.data["attachmentIds"] = value

    def sent_recipients(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for batch in self.data["batches"]:
            if batch.get("state") == "sent":
                for row in batch.get("correspondences") or []:
                    found[str(row["recipient"]).lower()] = row
        return found

    def _entry(self, batch: list[Checked], state: str) -> dict[str, Any]:
        return {
            "batch": len(self.data["batches"]) + 1,
            "rows": _where(batch),
            "state": state,
            # Multi-recipient requests cannot carry an idempotentKey (the API answers 400/1047).
            "idempotentKey": None,
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        }

    def record_batch(self, batch: list[Checked], created: list[dict[str, Any]]) -> None:
        entry = self._entry(batch, "sent")
        entry["correspondences"] = created
        self.data["batches"].append(entry)

    def record_failure(self, batch: list[Checked], message: str, *, unknown: bool) -> None:
        entry = self._entry(batch, "unknown" if unknown else "failed")
        entry["error"] = message
        entry["recipients"] = len(batch)
        self.data["batches"].append(entry)

    def save(self) -> None:
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(json.dumps(self.data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temp, self.path)


def _load_request(handle: Any) -> dict[str, Any]:
    if handle is None:
        return {}
    try:
        request = json.load(handle)
    except ValueError as exc:
        raise UsageProblem(f"the request file is not valid JSON ({exc})") from None
    if not isinstance(request, dict):
        raise UsageProblem("the request file must hold a JSON object")
    return request


def _read_at(value: str) -> str:
    if value.startswith("@"):
        try:
            return Path(value[1:]).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot read {value[1:]} ({exc.strerror})") from None
    return value


def _iso(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageProblem("--publish-time must be an ISO 8601 date and time, e.g. 2030-01-31T12:00:00+01:00") from None
    return value


def _recipient(value: str) -> str:
    """A bare 9-digit organisation number becomes the URN the API wants; anything else (an
    11-digit national identity number, a URN, ``0192:...``) goes as it is."""
    value = value.strip()
    if len(value) == 9 and value.isdigit():
        return ORGANIZATION_URN + value
    return value


def _csv_rows(path: Path) -> list[tuple[str, str]]:
    """(where, value) per recipient; where = "NAME row N, column C" with N the row as a
    spreadsheet numbers it (the header is row 1, blank and # lines count)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read {path} ({exc})") from None
    records = list(enumerate(csv.reader(io.StringIO(text)), 1))
    content = [(n, row) for n, row in records if row and row[0].strip() and not row[0].startswith("#")]
    if not content:
        return []
    header = [cell.strip().lower() for cell in content[0][1]]
    column, name = 0, "1"
    if "recipient" in header:
        column = header.index("recipient")
        name = "recipient"
        content = content[1:]
    elif header[0] in ("recipients", "orgnumber", "organization", "ssn", "id"):
        name = header[0]
        content = content[1:]
    found = []
    for number, row in content:
        value = row[column].strip() if len(row) > column else ""
        found.append((f"{path.name} row {number}, column {name}", value))
    return found


def _csv_recipients(handle: Any) -> list[str]:
    """The recipient values of a CSV (kept for callers that only need the values)."""
    import tempfile as _tempfile

    with _tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "recipients.csv"
        path.write_text(handle.read(), encoding="utf-8")
        return [value for _, value in _csv_rows(path) if value]


def _follow(env: Env, rows: list[dict[str, Any]], timeout: float) -> CliError | None:
    """Poll each correspondence until it leaves Initialized/ReadyForPublish."""
    deadline = time.monotonic() + timeout
    interval = 0.5
    pending = [row for row in rows if row.get("status") in PENDING_CORRESPONDENCE]
    env.note(f"Waiting for {len(pending)} correspondence(s) to be published ...") if pending else None
    while pending:
        for row in list(pending):
            overview = env.client.correspondence(str(row["correspondenceId"]))
            row["status"] = overview.get("status")
            row["statusText"] = overview.get("statusText")
            if row["status"] not in PENDING_CORRESPONDENCE:
                pending.remove(row)
        if not pending:
            break
        if time.monotonic() >= deadline:
            return WaitTimeout(f"{len(pending)} correspondence(s) not published after {timeout:.0f} s")
        time.sleep(interval)
        interval = min(interval * 1.5, 5.0)
    failed = [row for row in rows if row.get("status") == "Failed"]
    if failed:
        return WaitFailed(f"{len(failed)} correspondence(s) Failed")
    return None


_RECIPIENT_PREFIXES = {
    ORGANIZATION_URN: "org",
    "urn:altinn:person:identifier-no:": "person",
}


def _short_recipient(recipient: Any) -> str:
    text = str(recipient)
    for prefix, kind in _RECIPIENT_PREFIXES.items():
        if text.startswith(prefix):
            return f"{text[len(prefix):]} ({kind})"
    return text


def _print_rows(rows: list[dict[str, Any]], attachment_ids: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("Correspondence", no_wrap=True, min_width=36)
    table.add_column("Recipient", overflow="fold")
    table.add_column("Status", overflow="fold")
    for row in rows:
        status = str(row.get("status"))
        style = "red" if status == "Failed" else "green" if status not in PENDING_CORRESPONDENCE else None
        table.add_row(str(row.get("correspondenceId")), _short_recipient(row.get("recipient")), status, style=style)
    console = Console(soft_wrap=True)
    console.print(table)
    if attachment_ids:
        console.print("Attachments: " + ", ".join(attachment_ids))


# --- status ----------------------------------------------------------------------------------------

@command(main, "status")
@click.argument("item_id", metavar="ID")
def status_command(env: Env, item_id: str) -> None:
    """Show a correspondence or an attachment (whichever ID is), with its status history."""
    item_id = _guid(item_id, "ID")
    kind = "correspondence"
    try:
        details = env.client.correspondence(item_id, details=True)
    except ApiError as exc:
        if exc.status != 404:
            raise
        kind = "attachment"
        try:
            details = env.client.attachment(item_id, details=True)
        except ApiError as second:
            if second.status != 404:
                raise
            raise ApiError(404, "Not Found", None, hint="no correspondence or attachment has this id") from None
    env.out({"kind": kind, **details}, lambda: _print_status(kind, details))


def _print_status(kind: str, details: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    if kind == "correspondence":
        fields = [
            ("Correspondence", details.get("correspondenceId")),
            ("Resource", details.get("resourceId")),
            ("Recipient", details.get("recipient")),
            ("Sender's reference", details.get("sendersReference")),
            ("Title", (details.get("content") or {}).get("messageTitle")),
            ("Status", details.get("status")),
            ("Status text", details.get("statusText")),
            ("Requested publish", details.get("requestedPublishTime")),
            ("Published", details.get("published")),
        ]
        for attachment in (details.get("content") or {}).get("attachments") or []:
            fields.append(("Attachment", f"{attachment.get('id')} {attachment.get('fileName')} ({attachment.get('status')})"))
    else:
        fields = [
            ("Attachment", details.get("attachmentId")),
            ("Resource", details.get("resourceId")),
            ("File name", details.get("fileName")),
            ("Status", details.get("status")),
            ("Status text", details.get("statusText")),
            ("Checksum", details.get("checksum")),
            ("Data type", details.get("dataType")),
            ("Correspondences", ", ".join(details.get("correspondenceIds") or []) or "-"),
        ]
    console = Console(soft_wrap=True)
    summary = Table(show_header=False, box=None)
    for name, value in fields:
        summary.add_row(name, "-" if value in (None, "") else str(value))
    console.print(summary)
    history = details.get("statusHistory") or []
    if history:
        table = Table("Status", "Changed", "Text", title="History")
        for event in history:
            table.add_row(str(event.get("status")), str(event.get("statusChanged")), str(event.get("statusText") or ""))
        console.print(table)


if __name__ == "__main__":
    main()
