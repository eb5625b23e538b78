"""``ncalayer-emulator``: serve the given key containers until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from docservice_testing.ncalayer.keystore import EmulatorKey
from docservice_testing.ncalayer.server import DEFAULT_PORT, LOOPBACK, NCALayerEmulator
from signing import patches


def load_keys(paths: Sequence[str], password: str) -> list[EmulatorKey]:
    keys = []
    for path in paths:
        try:
            keys.append(EmulatorKey.from_p12(path, password))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: {exc}") from None
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: serve the given containers until interrupted."""
    parser = argparse.ArgumentParser(
        prog="ncalayer-emulator",
        description="An NCALayer emulator: a real wss:// server on loopback holding test keys",
    )
    parser.add_argument("--p12", action="append", required=True, help="key container (repeat)")
    parser.add_argument(
        "--password-file", required=True, help="file whose first line is the containers' password"
    )
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--tsa-url",
        default=None,
        help="RFC 3161 TSA for tsaProfile (default: the emulator's own test TSA)",
    )
    parser.add_argument(
        "--tls-dir",
        type=Path,
        default=None,
        help="where to write the generated TLS certificate (to trust it); created if missing",
    )
    args = parser.parse_args(argv)
    if args.tls_dir is not None:
        try:
            args.tls_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"--tls-dir {args.tls_dir}: {exc.strerror or exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    patches.apply()  # GOST and the other library hooks, as in every entry point
    password = Path(args.password_file).read_text(encoding="utf-8").splitlines()[0]
    keys = load_keys(args.p12, password)

    async def run() -> None:
        async with NCALayerEmulator(
            keys, host=args.host, port=args.port, tsa_url=args.tsa_url, tls_dir=args.tls_dir
        ) as emulator:
            print(f"listening on {emulator.url}; TLS certificate {emulator.cert_path}", flush=True)
            await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    return 0
