"""Settings from the environment: one place that reads ``DOCSERVICE_*`` for the service.

Why one object: the embedded default and production differ only in these values, so the
same code path runs in both, and tests build their own ``Settings`` without touching
``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to know about where it runs."""

    data_dir: Path = Path("var")
    #: None: SQLite (WAL) at ``data_dir/docservice.sqlite3``.
    database_url: str | None = None
    #: Base URL of this service as callers and QR codes reach it.
    public_url: str = "http://127.0.0.1:8080"
    trust_dir: str | None = None
    fetch_revocation: bool = True
    tsa_url: str | None = None
    #: PAdES level of server and NCALayer signatures (B-B, B-T, B-LT, B-LTA); None: B-T
    #: with a TSA, else B-B. B-LT and B-LTA need the trust folder (OCSP/CRL evidence).
    pades_level: str | None = None
    #: ``report_a3`` inputs with more rows than this are rendered as a job (202).
    async_rows: int = 500
    #: Seconds a prepared (NCALayer) signature waits for its completion.
    prepare_ttl: float = 15 * 60
    #: Largest request body accepted by the API (bytes).
    max_request_bytes: int = 16 * 1024 * 1024
    #: Largest ``report_a3`` accepted at all (rows).
    max_report_rows: int = 20_000
    #: Threads of the in-process job pool (embedded mode).
    job_threads: int = 2
    #: Celery broker (production); None runs jobs in the service process.
    broker_url: str | None = None
    #: Requests per client on /v1 (Flask-Limiter syntax), and where counts are kept.
    rate_limit: str = "1200/minute"
    rate_limit_storage: str | None = None
    #: Where the signing-link page finds the official's NCALayer.
    ncalayer_url: str = "wss://127.0.0.1:13579"
    #: eGov mobile / eGov Business signing (docservice.service.egov): seconds a QR request
    #: lives, the window for the app's signed login time, the organisation the app shows,
    #: and where the app returns the user after cross signing.
    egov_ttl: float = 5 * 60
    egov_auth_window: float = 5 * 60
    org_name_ru: str = "docservice"
    org_name_kz: str = "docservice"
    org_name_en: str = "docservice"
    org_bin: str = ""
    egov_back_url: str | None = None
    #: Seconds a server key's good certificate status (chain, CRL/OCSP) is reused by its
    #: next signatures (at most the revocation cache's 300 s); 0 checks every signature.
    key_status_ttl: float = 60.0
    #: The garbage collector's first threshold in service processes after their warm-up
    #: (docservice.service.gc_tuning); 0 keeps CPython's default.
    gc_threshold: int = 10_000
    #: Seconds a process reuses an API key's successful lookup (its client row); a key
    #: revoked or rotated meanwhile stops working within this time; 0 looks up every
    #: request.
    auth_cache_ttl: float = 2.0
    #: The archive (docservice.service.archive): the key of IIN search hashes (None: a
    #: key file generated in ``data_dir``), the seal key tree heads are signed with (PEM;
    #: None: an Ed25519 key generated in ``data_dir``), seconds between periodic tree
    #: heads and between re-time-stamping sweeps, and how many days before the newest
    #: time-stamp's certificate expires a B-LTA document is re-time-stamped.
    index_key: str | None = None
    seal_key_path: str | None = None
    tree_head_interval: float = 3600.0
    retimestamp_interval: float = 24 * 3600.0
    retimestamp_days: int = 90
    #: Run the embedded scheduler (tree heads, re-time-stamping) in the service process.
    scheduler: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # "postgresql://" means psycopg 3 here (SQLAlchemy would pick psycopg2).
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{(self.data_dir / 'docservice.sqlite3').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    return int(value) if value else default


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The settings the environment asks for (README: "Environment variables")."""
    env = os.environ if env is None else env
    return Settings(
        data_dir=Path(env.get("DOCSERVICE_DATA_DIR") or "var"),
        database_url=env.get("DOCSERVICE_DATABASE_URL") or None,
        public_url=env.get("DOCSERVICE_PUBLIC_URL") or "http://127.0.0.1:8080",
        trust_dir=env.get("DOCSERVICE_TRUST_DIR") or None,
        fetch_revocation=env.get("DOCSERVICE_OFFLINE", "") not in ("1", "true", "yes"),
        tsa_url=env.get("DOCSERVICE_TSA_URL") or None,
        pades_level=env.get("DOCSERVICE_PADES_LEVEL") or None,
        async_rows=_int(env, "DOCSERVICE_ASYNC_ROWS", 500),
        prepare_ttl=float(env.get("DOCSERVICE_PREPARE_TTL") or 15 * 60),
        max_request_bytes=_int(env, "DOCSERVICE_MAX_REQUEST_BYTES", 16 * 1024 * 1024),
        max_report_rows=_int(env, "DOCSERVICE_MAX_REPORT_ROWS", 20_000),
        job_threads=_int(env, "DOCSERVICE_JOB_THREADS", 2),
        gc_threshold=_int(env, "DOCSERVICE_GC_THRESHOLD", 10_000),
        broker_url=env.get("DOCSERVICE_BROKER_URL") or None,
        rate_limit=env.get("DOCSERVICE_RATE_LIMIT") or "1200/minute",
        rate_limit_storage=env.get("DOCSERVICE_RATE_LIMIT_STORAGE") or None,
        ncalayer_url=env.get("DOCSERVICE_NCALAYER_URL") or "wss://127.0.0.1:13579",
        egov_ttl=float(env.get("DOCSERVICE_EGOV_TTL") or 5 * 60),
        egov_auth_window=float(env.get("DOCSERVICE_EGOV_AUTH_WINDOW") or 5 * 60),
        org_name_ru=env.get("DOCSERVICE_ORG_NAME_RU") or "docservice",
        org_name_kz=env.get("DOCSERVICE_ORG_NAME_KZ") or "docservice",
        org_name_en=env.get("DOCSERVICE_ORG_NAME_EN") or "docservice",
        org_bin=env.get("DOCSERVICE_ORG_BIN") or "",
        egov_back_url=env.get("DOCSERVICE_EGOV_BACK_URL") or None,
        key_status_ttl=float(env.get("DOCSERVICE_KEY_STATUS_TTL") or 60),
        auth_cache_ttl=float(env.get("DOCSERVICE_AUTH_CACHE_TTL") or 2),
        index_key=env.get("DOCSERVICE_INDEX_KEY") or None,
        seal_key_path=env.get("DOCSERVICE_SEAL_KEY") or None,
        tree_head_interval=float(env.get("DOCSERVICE_TREE_HEAD_INTERVAL") or 3600),
        retimestamp_interval=float(env.get("DOCSERVICE_RETIMESTAMP_INTERVAL") or 24 * 3600),
        retimestamp_days=_int(env, "DOCSERVICE_RETIMESTAMP_DAYS", 90),
        scheduler=env.get("DOCSERVICE_SCHEDULER", "1") not in ("0", "false", "no"),
    )
