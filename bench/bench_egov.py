"""eGov mobile signing latency over real HTTP, against NCALayer-style signing as baseline.

One eGov signature is: POST .../signatures/egov (prepare the revision, QR PNG + SVG), the
app's API №1 GET, API №2 GET, signing, PUT (checks, OCSP, embedding, recording). The
baseline is the same document signed through prepare/complete (the NCALayer path) with
the same key, on the same server, in the same run; both sign a fresh document each time.
SQLite, no TSA, the test PKI's OCSP on loopback.

Run: ``.venv/bin/python bench/bench_egov.py [--seconds S] [--max N]``
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asn1crypto import pem  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from docservice.service.app import create_service_app  # noqa: E402
from docservice.service.clients import add_client  # noqa: E402
from docservice.service.config import Settings  # noqa: E402
from docservice.service.documents import DocService  # noqa: E402
from docservice_testing.egov_mobile import EgovMobileEmulator  # noqa: E402
from docservice_testing.ncalayer import build_cms  # noqa: E402
from docservice_testing.ncalayer.keystore import EmulatorKey  # noqa: E402
from tests.pki import running_pki  # noqa: E402
from tests.service.http import Client  # noqa: E402


def _timed(
    name: str, fn: Callable[[], None], setup: Callable[[], None], seconds: float, max_runs: int
) -> float:
    """Mean milliseconds of ``fn`` over a bounded loop (time and count), after a warm-up."""
    setup()
    fn()
    total, runs = 0.0, 0
    while runs < max_runs and total < seconds:
        setup()
        start = time.perf_counter()
        fn()
        total += time.perf_counter() - start
        runs += 1
    ms = 1000 * total / runs
    print(f"{name:<44} {ms:8.1f} ms each  ({runs} runs)")
    return ms


def main(argv: list[str] | None = None) -> int:
    from signing import patches

    patches.apply()  # the GOST OIDs and validator, the fast hex reader (start-up)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time bound per case")
    parser.add_argument("--max", type=int, default=50, help="count bound per case")
    args = parser.parse_args(argv)
    data = json.loads((ROOT / "examples" / "direction.json").read_text(encoding="utf-8"))
    with running_pki() as pki, tempfile.TemporaryDirectory() as tmp:
        trust = Path(tmp) / "trust"
        trust.mkdir()
        (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
        (trust / "ca.pem").write_bytes(pki.ca_pem.read_bytes())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        svc = DocService(
            Settings(
                data_dir=Path(tmp) / "var",
                trust_dir=str(trust),
                public_url=base,
                extra={"ncalayer_test_keys": "1"},
            )
        )
        with svc.db.session() as session:
            _, api_key = add_client(session, "bench", ["render", "sign"])
        httpd = make_server("127.0.0.1", port, create_service_app(service=svc), threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            key = EmulatorKey.from_p12(pki.p12("career"), pki.password)
            cert = pem.armor("CERTIFICATE", key.certificate.dump()).decode()
            client = Client(base, api_key)
            doc: dict[str, str] = {}

            def new_document() -> None:
                made = client.post("/v1/documents", {"kind": "direction", "data": data})
                doc["id"] = made.json["id"]

            def ncalayer() -> None:
                prepared = client.post(
                    f"/v1/documents/{doc['id']}/signatures/prepare", {"certificate": cert}
                ).json
                digest = base64.b64decode(prepared["data_to_sign"])
                cms = base64.b64encode(build_cms(key, digest=digest).dump()).decode()
                done = client.post(
                    f"/v1/documents/{doc['id']}/signatures/{prepared['id']}/complete", {"cms": cms}
                )
                assert done.status == 201, done.body

            def egov() -> None:
                made = client.post(
                    f"/v1/documents/{doc['id']}/signatures/egov",
                    {"app": "egov_mobile", "expected_signer": cert},
                ).json
                answer = EgovMobileEmulator(key).run(made["qr"]["payload"])
                assert answer.status == 200, answer.body

            base_ms = _timed(
                "NCALayer prepare + complete (baseline)",
                ncalayer,
                new_document,
                args.seconds,
                args.max,
            )
            egov_ms = _timed(
                "eGov request + API 1 + API 2 + PUT", egov, new_document, args.seconds, args.max
            )
            print(f"{'eGov / NCALayer':<44} {egov_ms / base_ms:8.2f} x")
        finally:
            httpd.shutdown()
            httpd.server_close()
            svc.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
