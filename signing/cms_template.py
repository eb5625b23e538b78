"""A key's CMS SignedData with its constant parts encoded once.

Why: for a B-B PDF signature pyHanko builds the SignedData with asn1crypto around the
certificates, the signer's issuer and serial and the algorithm identifiers, and asn1crypto
deep-copies each of them when it tags it (the certificates twice: in the certificate set
and again when the SignedData is wrapped in its ContentInfo) and then walks every parsed
value to re-encode it: about a tenth of a visible signature, for parts that are the same
in every signature of a key. Here they are encoded once, when the key is loaded, and a
signature only adds its signed attributes and signature value. The result is
byte-for-byte pyHanko's (``tests/signing/test_cms_template.py``).
"""

from __future__ import annotations

from asn1crypto import algos, cms, x509

#: DER tags used below: INTEGER, OCTET STRING, SEQUENCE, SET, [0] constructed.
_OCTET_STRING, _SEQUENCE, _SET, _CONTEXT_0 = 0x04, 0x30, 0x31, 0xA0
#: CMSVersion v1, the version of both the SignedData and the SignerInfo here.
_V1 = b"\x02\x01\x01"


def _tlv(tag: int, content: bytes) -> bytes:
    """One DER element (definite length)."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


class SignedDataTemplate:
    """The SignedData pyHanko's ``Signer`` makes for one certificate set, one digest and
    one signature algorithm, detached, v1, without unsigned attributes."""

    def __init__(
        self,
        signing_cert: x509.Certificate,
        certificates: list[x509.Certificate],
        digest_algorithm: algos.DigestAlgorithm,
        signature_algorithm: algos.SignedDigestAlgorithm,
    ) -> None:
        """``certificates``: those pyHanko embeds besides ``signing_cert`` (its registry,
        roots included), kept as pyHanko keeps them: a set of distinct objects, so the
        signer's own certificate, being in the registry, is there twice."""
        sid = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {"issuer": signing_cert.issuer, "serial_number": signing_cert.serial_number}
                )
            }
        )
        digest = digest_algorithm.dump()
        self._signer_head = _V1 + sid.dump() + digest
        self._signature_algorithm = signature_algorithm.dump()
        certificate_set = cms.CertificateSet(
            [
                cms.CertificateChoices(name="certificate", value=cert)
                for cert in [*certificates, signing_cert]
            ],
            implicit=0,
        )
        encap = cms.EncapsulatedContentInfo({"content_type": "data"})
        self._data_head = _V1 + _tlv(_SET, digest) + encap.dump() + certificate_set.dump()
        self._content_type = cms.ContentType("signed_data").dump()

    def content_info(self, signed_attrs: bytes, signature: bytes) -> bytes:
        """The DER ContentInfo for the signed attributes (their DER SET) and signature."""
        if signed_attrs[:1] != bytes((_SET,)):
            raise ValueError("signed attributes must be a DER SET")
        signer_info = _tlv(
            _SEQUENCE,
            self._signer_head
            + bytes((_CONTEXT_0,))
            + signed_attrs[1:]
            + self._signature_algorithm
            + _tlv(_OCTET_STRING, signature),
        )
        signed_data = _tlv(_SEQUENCE, self._data_head + _tlv(_SET, signer_info))
        return _tlv(_SEQUENCE, self._content_type + _tlv(_CONTEXT_0, signed_data))
