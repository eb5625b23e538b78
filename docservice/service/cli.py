"""Commands of the service: ``serve``, ``db``, ``clients``, ``keys``, ``demo``.

Registered on ``docservice``'s parser by :func:`add_cli`; each handler works on the
database the environment names (``DOCSERVICE_DATABASE_URL`` / ``DOCSERVICE_DATA_DIR``), the
embedded one being created and migrated on first use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docservice.service.config import Settings, from_env


def _settings(args: argparse.Namespace) -> Settings:
    settings = from_env()
    if getattr(args, "trust", None):
        settings = settings.with_(trust_dir=args.trust)
    if getattr(args, "offline", False):
        settings = settings.with_(fetch_revocation=False)
    return settings


def _db(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from docservice.service.db import Database

    return Database(_settings(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from docservice.service.server import serve

    settings = _settings(args)
    if not settings.trust_dir:
        from docservice.verification import default_trust_dir

        settings = settings.with_(trust_dir=default_trust_dir())
    if not Path(settings.trust_dir or "").is_dir():
        print(
            f"docservice: trust directory {settings.trust_dir} does not exist "
            "(--trust or DOCSERVICE_TRUST_DIR)",
            file=sys.stderr,
        )
        return 2
    if args.public_url:
        settings = settings.with_(public_url=args.public_url)
    return serve(settings, args.host, args.port, workers=args.workers, threads=args.threads)


def cmd_db(args: argparse.Namespace) -> int:
    from docservice.service.db import Database, current_revision, head_revision, upgrade

    db = Database(_settings(args), migrate=False)
    try:
        if args.action == "upgrade":
            print(f"database at revision {upgrade(db.engine)}")
        else:
            current = current_revision(db.engine)
            print(f"database at revision {current}; code expects {head_revision()}")
            return 0 if current == head_revision() else 1
    finally:
        db.dispose()
    return 0


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v for v in value.split(",") if v.strip()]


def cmd_clients(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from docservice.service.clients import add_client, revoke_client, rotate_client
    from docservice.service.models import Client

    db = _db(args)
    with db.session() as session:
        if args.action == "add":
            client, key = add_client(
                session, args.name, _split(args.scopes) or [], _split(args.kinds)
            )
            print(key)
            print(
                f"docservice: the key is shown once; keep it in the client's secrets. "
                f"Webhook signing secret: {client.webhook_secret}",
                file=sys.stderr,
            )
        elif args.action == "rotate":
            print(rotate_client(session, args.name))
        elif args.action == "revoke":
            revoke_client(session, args.name)
            print(f"revoked {args.name}")
        else:
            for c in session.scalars(select(Client).order_by(Client.name)):
                state = "revoked" if c.revoked_at else "active"
                print(f"{c.name:24} {state:8} scopes={c.scopes} kinds={c.kinds or '*'}")
    db.dispose()
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from docservice.cli_errors import fail
    from docservice.service.keys import add_key
    from docservice.service.models import ServerKey, utcnow
    from signing.errors import SigningError

    db = _db(args)
    with db.session() as session:
        if args.action == "add":
            if not args.p12 or not args.password_file:
                print("docservice: keys add needs --p12 and --password-file", file=sys.stderr)
                return 2
            try:
                row = add_key(
                    session,
                    args.name,
                    Path(args.p12),
                    Path(args.password_file),
                    _split(args.clients) or [],
                    role=args.role,
                )
            except SigningError as exc:
                return fail(f"docservice: key {args.name}", exc, "kk+ru")
            print(f"key {row.name} registered for {args.clients or 'no client'}")
        elif args.action == "revoke":
            row = session.scalar(select(ServerKey).where(ServerKey.name == args.name))
            if row is None:
                print(f"docservice: no key named {args.name!r}", file=sys.stderr)
                return 2
            row.revoked_at = utcnow()
            print(f"revoked {args.name}")
        else:
            for k in session.scalars(select(ServerKey).order_by(ServerKey.name)):
                state = "revoked" if k.revoked_at else "active"
                print(f"{k.name:24} {state:8} {k.p12_path}")
    db.dispose()
    return 0


def cmd_orgs(args: argparse.Namespace) -> int:
    """The directory of which organisation (BIN) acts for which body of which region."""
    from sqlalchemy import select

    from docservice.service.models import Organisation
    from docservice.service.route import DirectoryError, add_org, load_orgs

    db = _db(args)
    try:
        with db.session() as session:
            if args.action == "add":
                if not args.body or not args.region:
                    print("docservice: orgs add needs BIN, --body and --region", file=sys.stderr)
                    return 2
                row = add_org(session, args.target, args.body, args.region, args.name or "")
                print(f"{row.bin} acts for {row.body} of {row.region}")
            elif args.action == "load":
                rows = load_orgs(session, Path(args.target))
                print(f"{len(rows)} organisation entries loaded from {args.target}")
            else:
                for o in session.scalars(
                    select(Organisation).order_by(
                        Organisation.region, Organisation.body, Organisation.bin
                    )
                ):
                    print(f"{o.bin}  {o.body:24} {o.region:24} {o.name}")
    except DirectoryError as exc:
        print(f"docservice: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from docservice.service.tasks import run_worker

    return run_worker(
        args.concurrency,
        sweep_interval=args.sweep_interval,
        stale_after=args.stale_after,
        beat=args.beat,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from docservice.service.demo import run_demo

    return run_demo(Path(args.out))


def cmd_audit(args: argparse.Namespace) -> int:
    """``audit check``: 0 intact, 1 findings, 2 could not run. ``audit verify-bundle``:
    0 intact, 1 not (or unreadable), 2 no such file. ``audit tree-head``: make one now."""
    if args.action == "verify-bundle":
        from docservice.archive.bundle import verify_bundle

        if not args.bundle or not Path(args.bundle).is_file():
            print(f"docservice: no bundle file {args.bundle!r}", file=sys.stderr)
            return 2
        trust = Path(args.trust) if args.trust else None
        if trust is not None and not trust.is_dir():
            print(f"docservice: trust directory {trust} does not exist", file=sys.stderr)
            return 2
        report = verify_bundle(Path(args.bundle), trust)
        for note in report.notes:
            print(f"note: {note}")
        for problem in report.problems:
            print(f"NOT INTACT: {problem}")
        if report.intact:
            print(f"intact: {report.items} entries, {report.cards} cards, proofs verified")
        return 0 if report.intact else 1
    from docservice.service.documents import DocService

    try:
        svc = DocService(from_env())
    except Exception as exc:
        print(f"docservice: cannot open the service's database: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "tree-head":
            sth, token = svc.archive.make_tree_head()
            print(
                f"tree head: size {sth.tree_size}, root {sth.root_hash.hex()}, "
                f"{'time-stamped' if token else 'not time-stamped'}"
            )
            return 0
        from docservice.service.audit import check_archive

        result = check_archive(svc)
    finally:
        svc.db.dispose()
    for finding in result.findings:
        print(f"FINDING: {finding}")
    print(
        f"{'intact' if result.intact else 'NOT INTACT'}: {result.entries} entries, "
        f"{result.blobs} files, {result.tree_heads} tree heads checked, "
        f"{len(result.findings)} findings"
    )
    return 0 if result.intact else 1


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit", help="the archive: check it, verify a case bundle offline, make a tree head"
    )
    p.add_argument("action", choices=("check", "verify-bundle", "tree-head"))
    p.add_argument("bundle", nargs="?", help="verify-bundle: the bundle ZIP")
    p.add_argument(
        "--trust",
        help="verify-bundle: folder with the pinned seal public key (PEM) and the CA/TSA roots",
    )
    p.set_defaults(handler=cmd_audit)

    p = sub.add_parser("db", help="database schema: upgrade, or check the current revision")
    p.add_argument("action", choices=("upgrade", "current"))
    p.set_defaults(handler=cmd_db)

    p = sub.add_parser("clients", help="calling systems and their API keys")
    p.add_argument("action", choices=("add", "revoke", "rotate", "list"))
    p.add_argument("name", nargs="?", default="")
    p.add_argument("--scopes", help="comma-separated: render,sign,verify,audit")
    p.add_argument("--kinds", help="comma-separated kinds the client may request (default all)")
    p.set_defaults(handler=cmd_clients)

    p = sub.add_parser("keys", help="server-held signing keys")
    p.add_argument("action", choices=("add", "revoke", "list"))
    p.add_argument("name", nargs="?", default="")
    p.add_argument("--p12", help="PKCS#12 container (stays where it is)")
    p.add_argument(
        "--password-file",
        help="file whose first line is the password (its path is kept, never the password)",
    )
    p.add_argument("--clients", help="comma-separated client names that may use the key")
    p.add_argument("--role", help="role the key signs in (checked against the certificate)")
    p.set_defaults(handler=cmd_keys)

    p = sub.add_parser(
        "orgs",
        help="organisations directory: which BIN acts for which body "
        "(career_centre, labour_mobility_centre, ...) of which "
        "region, for the route's who-may-act check",
    )
    p.add_argument("action", choices=("add", "load", "list"))
    p.add_argument(
        "target",
        nargs="?",
        default="",
        help="add: the BIN; load: a YAML file 'organisations: [{bin, body, region, name}]'",
    )
    p.add_argument("--body", help="the body the organisation acts for (route files' bodies)")
    p.add_argument("--region", help="the region, spelled as the cases spell it")
    p.add_argument("--name", help="the organisation's name (for listings)")
    p.set_defaults(handler=cmd_orgs)

    p = sub.add_parser(
        "worker",
        help="a Celery worker for the jobs (production; broker: "
        "$DOCSERVICE_BROKER_URL, Redis or RabbitMQ)",
    )
    p.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    p.add_argument(
        "--sweep-interval",
        type=float,
        default=10.0,
        help="seconds between sweeps for jobs whose message was lost",
    )
    p.add_argument(
        "--stale-after",
        type=float,
        default=60.0,
        help="an unfinished job not touched this long is sent again",
    )
    p.add_argument(
        "--beat",
        action="store_true",
        help="also run Celery beat: periodic tree heads and re-time-stamping "
        "(run it in exactly one worker)",
    )
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser(
        "demo",
        help="run a whole case on the embedded default: the service, "
        "a demo PKI with OCSP and a TSA, a client system over "
        "HTTP; writes the documents, the case's bundle and cards "
        "into --out and verifies the bundle offline",
    )
    p.add_argument("--out", required=True, help="a new or empty folder")
    p.set_defaults(handler=cmd_demo)


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--public-url", help="base URL callers and QR codes use (default $DOCSERVICE_PUBLIC_URL)"
    )
    p.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default $DOCSERVICE_WORKERS or 1)"
    )
    p.add_argument(
        "--threads", type=int, help="threads per worker (default $DOCSERVICE_THREADS or 8)"
    )
