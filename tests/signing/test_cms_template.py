"""The pre-encoded CMS of a key held here is byte-for-byte the one pyHanko assembles."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

import pytest
from asn1crypto import cms
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from signing.keys import Pkcs12Key


async def _both(key: Pkcs12Key, content_type: str = "data") -> tuple[bytes, bytes]:
    """The same signed attributes signed through the template and through pyHanko's own
    assembly (the base class's method on the same signer)."""
    signer = key.pyhanko_signer()
    attrs = await signer.signed_attrs(
        hashlib.sha256(secrets.token_bytes(64)).digest(),
        "sha256",
        attr_settings=PdfCMSSignedAttributes(),
        use_pades=True,
        content_type=content_type,
    )
    # pyHanko's async_sign passes the detached content info explicitly
    detached = {"content_type": "data"}
    fast = await signer.async_sign_prescribed_attributes(
        "sha256", attrs, encap_content_info=detached
    )
    plain = await Signer.async_sign_prescribed_attributes(
        signer, "sha256", attrs, encap_content_info=detached
    )
    return fast.dump(), plain.dump()


def test_the_template_gives_pyhankos_bytes(officials: dict[str, Pkcs12Key]) -> None:
    for key in officials.values():
        if key.is_gost:
            continue
        for _ in range(3):
            fast, plain = asyncio.run(_both(key))
            assert fast == plain


def test_the_signed_attributes_are_pyhankos(officials: dict[str, Pkcs12Key]) -> None:
    """The signed attributes encoded from cached parts are pyHanko's own, byte for byte,
    for a PAdES and a plain CMS signature, and again for a second digest (the cache)."""

    async def both(signer: Signer, digest: bytes, use_pades: bool) -> tuple[bytes, bytes]:
        settings = PdfCMSSignedAttributes()
        fast = await signer.signed_attrs(
            digest, "sha256", attr_settings=settings, use_pades=use_pades
        )
        plain = await Signer.signed_attrs(
            signer, digest, "sha256", attr_settings=settings, use_pades=use_pades
        )
        return fast.dump(), plain.dump()

    for key in officials.values():
        if key.is_gost:
            continue
        signer = key.pyhanko_signer()
        for use_pades in (True, False, True):
            digest = hashlib.sha256(secrets.token_bytes(64)).digest()
            fast, plain = asyncio.run(both(signer, digest, use_pades))
            assert fast == plain
            assert digest in fast


def test_a_b_b_signature_does_not_go_through_pyhankos_assembly(
    officials: dict[str, Pkcs12Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The template is really used: with pyHanko's assembly disabled, it still signs."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pyHanko assembled the CMS")

    monkeypatch.setattr(Signer, "_package_signature", refuse)
    key = next(k for k in officials.values() if not k.is_gost)
    signer = key.pyhanko_signer()

    async def sign() -> cms.ContentInfo:
        # what a PDF signature calls (PdfTBSDocument.perform_signature)
        signed: cms.ContentInfo = await signer.async_sign(
            hashlib.sha256(b"x").digest(), "sha256", use_pades=True
        )
        return signed

    assert asyncio.run(sign())["content"]["signer_infos"][0]["sid"].chosen[
        "serial_number"
    ].native == (key.certificate.serial_number)


def test_other_cms_is_left_to_pyhanko(officials: dict[str, Pkcs12Key]) -> None:
    """An encapsulated content or another version is not the template's case."""
    key = next(k for k in officials.values() if not k.is_gost)
    signer = key.pyhanko_signer()

    async def v3() -> cms.ContentInfo:
        attrs = await signer.signed_attrs(
            hashlib.sha256(b"x").digest(), "sha256", content_type="data"
        )
        signed: cms.ContentInfo = await signer.async_sign_prescribed_attributes(
            "sha256", attrs, cms_version="v3"
        )
        return signed

    assert asyncio.run(v3())["content"]["version"].native == "v3"
