"""A case's bundle: one ZIP an auditor checks offline, with no service running.

Layout (every path is listed in the manifest with its SHA-256)::

    manifest.json        format, case, items, tree heads, proofs, cards, members
    manifest.sig         the seal key's signature over manifest.json's bytes
    seal-key.pem         the public seal key (an auditor pins it with --trust DIR)
    entries/<i>.json     the exact leaf input of log entry i
    artefacts/<i>-<type>.<ext>   the artefact entry i names by SHA-256
    proofs/<i>.json      RFC 9162 inclusion proof of entry i in the bundle's tree head
    tree-heads/<size>-<ms>.json  signed tree heads (with their RFC 3161 token, if any)
    consistency/<a>-<b>.json     RFC 9162 consistency proofs from each head to the last
    cards/<document>.pdf         the ДДК of each signed document

Why each check: the members' hashes and the signed manifest catch a member changed,
removed or added; an entry's ``sha256`` binds its artefact; the inclusion proof binds the
entry to a tree head signed by the seal key; the consistency proofs show that the head
where an entry first appeared (time-stamped then) is a prefix of the bundle's head, so an
entry cannot be back-dated or a history rewritten without a proof failing; a card's
embedded original must be a signed revision of the bundle.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from docservice.archive import merkle
from docservice.archive.record import parse_entry
from docservice.archive.sth import SealKey, SealPublicKey, SignedTreeHead, verify_tree_head

FORMAT = "docservice-case-bundle/1"
MANIFEST, SIGNATURE, SEAL_KEY = "manifest.json", "manifest.sig", "seal-key.pem"

EXTENSIONS = {
    "document.pdf": "pdf",
    "signature.pdf": "pdf",
    "document.xml": "xml",
    "signature.xml": "xml",
    "document.input": "json",
    "signature.cms": "p7s",
    "signature.timestamp": "tsr",
    "document.timestamp": "tsr",
    "signature.ocsp": "ocsp",
    "signature.crl": "crl",
    "report.verification": "json",
    "route.event": "json",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def seal(key: SealKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def check_seal(key: SealPublicKey, data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def head_json(sth: SignedTreeHead, token: bytes | None) -> dict[str, Any]:
    return {
        "tree_size": sth.tree_size,
        "timestamp": sth.timestamp_ms,
        "root_hash": b64(sth.root_hash),
        "key_id": b64(sth.key_id),
        "signature": b64(sth.signature),
        "timestamp_token": b64(token) if token else None,
    }


def head_from_json(view: dict[str, Any]) -> tuple[SignedTreeHead, bytes | None]:
    token = view.get("timestamp_token")
    return (
        SignedTreeHead(
            int(view["tree_size"]),
            int(view["timestamp"]),
            base64.b64decode(view["root_hash"]),
            base64.b64decode(view["key_id"]),
            base64.b64decode(view["signature"]),
        ),
        base64.b64decode(token) if token else None,
    )


def head_path(sth: SignedTreeHead) -> str:
    return f"tree-heads/{sth.tree_size}-{sth.timestamp_ms}.json"


@dataclass
class Item:
    """One log entry of the case with its artefact and proofs."""

    index: int
    entry: bytes
    artefact: bytes
    inclusion_path: list[bytes]
    #: The earliest kept head that contains the entry (its first publication).
    first_head: SignedTreeHead | None = None


@dataclass
class Materials:
    case_id: str
    created_at: str
    seal_key: SealKey
    head: SignedTreeHead
    head_token: bytes | None
    items: list[Item]
    #: Earlier heads (first publications), their tokens and consistency paths to ``head``.
    earlier: list[tuple[SignedTreeHead, bytes | None, list[bytes]]] = field(default_factory=list)
    #: document id -> card PDF, or the reason it could not be made.
    cards: dict[str, bytes | str] = field(default_factory=dict)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()


def write_bundle(m: Materials) -> bytes:
    """The ZIP of ``m`` (see the module docstring)."""
    members: dict[str, bytes] = {}
    pem = m.seal_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    members[SEAL_KEY] = pem
    members[head_path(m.head)] = _json_bytes(head_json(m.head, m.head_token))
    earlier = []
    for sth, token, path in m.earlier:
        members[head_path(sth)] = _json_bytes(head_json(sth, token))
        cpath = f"consistency/{sth.tree_size}-{m.head.tree_size}-{sth.timestamp_ms}.json"
        members[cpath] = _json_bytes(
            {
                "tree_size_1": sth.tree_size,
                "tree_size_2": m.head.tree_size,
                "consistency_path": [b64(h) for h in path],
            }
        )
        earlier.append({"tree_head": head_path(sth), "consistency": cpath})
    items = []
    for it in m.items:
        entry = parse_entry(it.entry)
        ext = EXTENSIONS.get(entry["type"], "bin")
        apath = f"artefacts/{it.index}-{entry['type']}.{ext}"
        members[f"entries/{it.index}.json"] = it.entry
        members[apath] = it.artefact
        members[f"proofs/{it.index}.json"] = _json_bytes(
            {
                "leaf_index": it.index,
                "tree_size": m.head.tree_size,
                "inclusion_path": [b64(h) for h in it.inclusion_path],
            }
        )
        items.append(
            {
                "index": it.index,
                "type": entry["type"],
                "document_id": entry["document"],
                "time": entry["time"],
                "entry": f"entries/{it.index}.json",
                "artefact": apath,
                "proof": f"proofs/{it.index}.json",
                "first_published_in": head_path(it.first_head)
                if it.first_head
                else head_path(m.head),
            }
        )
    cards = []
    for doc_id, card in sorted(m.cards.items()):
        if isinstance(card, bytes):
            members[f"cards/{doc_id}.pdf"] = card
            cards.append({"document_id": doc_id, "card": f"cards/{doc_id}.pdf"})
        else:
            cards.append({"document_id": doc_id, "card": None, "reason": card})
    manifest = {
        "format": FORMAT,
        "case_id": m.case_id,
        "created_at": m.created_at,
        "seal_key": SEAL_KEY,
        "tree_head": head_path(m.head),
        "earlier_tree_heads": earlier,
        "items": items,
        "cards": cards,
        "members": {
            name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())
        },
    }
    manifest_bytes = _json_bytes(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, manifest_bytes)
        zf.writestr(SIGNATURE, seal(m.seal_key, manifest_bytes))
        for name, data in sorted(members.items()):
            zf.writestr(name, data)
    return out.getvalue()


# -- offline verification ------------------------------------------------------------------


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    items: int = 0
    cards: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


def _trusted_keys(trust_dir: Path) -> list[bytes]:
    """SubjectPublicKeyInfo (DER) of every PEM public key in ``trust_dir``."""
    found = []
    for path in sorted(trust_dir.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"PUBLIC KEY-----" not in data:
            continue
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            continue
        found.append(
            key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return found


def _load(zf: zipfile.ZipFile, report: BundleReport, name: str) -> bytes | None:
    try:
        return zf.read(name)
    except KeyError:
        report.problems.append(f"{name}: missing from the bundle")
        return None


def verify_bundle(
    path: Path, trust_dir: Path | None = None, *, verifier: Any = None
) -> BundleReport:
    """Check a bundle offline; every problem names the member or proof that is wrong."""
    report = BundleReport()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.problems.append(f"{path.name}: not a readable ZIP ({exc})")
        return report
    with zf:
        _verify(zf, report, trust_dir, verifier)
    return report


def _verify(
    zf: zipfile.ZipFile, report: BundleReport, trust_dir: Path | None, verifier: Any
) -> None:
    manifest_bytes, signature = _load(zf, report, MANIFEST), _load(zf, report, SIGNATURE)
    pem = _load(zf, report, SEAL_KEY)
    if manifest_bytes is None or signature is None or pem is None:
        return
    try:
        key = serialization.load_pem_public_key(pem)
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        report.problems.append(f"{SEAL_KEY} or {MANIFEST}: unreadable ({exc})")
        return
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if trust_dir is not None:
        if spki not in _trusted_keys(trust_dir):
            report.problems.append(f"{SEAL_KEY}: not a seal key trusted in {trust_dir}")
    else:
        report.notes.append("no --trust: the seal key is the bundle's own, not pinned")
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey) or not check_seal(
        key, manifest_bytes, signature
    ):
        report.problems.append(
            f"{SIGNATURE}: the seal key's signature over {MANIFEST} does not verify"
        )
    if manifest.get("format") != FORMAT:
        report.problems.append(f"{MANIFEST}: format is not {FORMAT}")
        return
    listed: dict[str, str] = manifest.get("members", {})
    present = {i.filename for i in zf.infolist() if not i.is_dir()} - {MANIFEST, SIGNATURE}
    for name in sorted(present - set(listed)):
        report.problems.append(f"{name}: added (not in the manifest)")
    for name in sorted(set(listed) - present):
        report.problems.append(f"{name}: removed (listed in the manifest, not in the bundle)")
    for name in sorted(set(listed) & present):
        if hashlib.sha256(zf.read(name)).hexdigest() != listed[name]:
            report.problems.append(f"{name}: changed (SHA-256 differs from the manifest)")

    heads = _verify_heads(zf, manifest, key, report, trust_dir)
    head = heads.get(manifest.get("tree_head", ""))
    if head is None:
        report.problems.append(
            f"{manifest.get('tree_head')}: the bundle's tree head is missing or does not verify"
        )
        return
    signed_revisions: set[str] = set()
    for item in manifest.get("items", []):
        _verify_item(zf, item, head, heads, report, signed_revisions)
    _verify_cards(zf, manifest, signed_revisions, report, trust_dir, verifier)


def _verify_heads(
    zf: zipfile.ZipFile,
    manifest: dict[str, Any],
    key: Any,
    report: BundleReport,
    trust_dir: Path | None,
) -> dict[str, SignedTreeHead]:
    """The tree heads that verify, by member name; consistency of each earlier head."""
    names = [manifest.get("tree_head", "")] + [
        e["tree_head"] for e in manifest.get("earlier_tree_heads", [])
    ]
    heads: dict[str, SignedTreeHead] = {}
    context = _tsa_context(trust_dir)
    for name in names:
        raw = zf.read(name) if name in zf.namelist() else None
        if raw is None:
            continue
        try:
            sth, token = head_from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            report.problems.append(f"{name}: not a tree head")
            continue
        if not verify_tree_head(sth, key):
            report.problems.append(f"{name}: the seal key's signature does not verify")
            continue
        if token is not None and context is not None:
            from docservice.archive.sth import async_verify_tree_head_timestamp

            when = asyncio.run(async_verify_tree_head_timestamp(sth, token, context))
            if when is None:
                report.problems.append(
                    f"{name}: its time-stamp token does not verify against the TSA roots of --trust"
                )
        heads[name] = sth
    head = heads.get(manifest.get("tree_head", ""))
    for earlier in manifest.get("earlier_tree_heads", []):
        first = heads.get(earlier["tree_head"])
        if head is None or first is None:
            continue
        raw = zf.read(earlier["consistency"]) if earlier["consistency"] in zf.namelist() else None
        try:
            proof = json.loads(raw) if raw is not None else None
            path = [base64.b64decode(h) for h in proof["consistency_path"]] if proof else None
        except (ValueError, KeyError, TypeError):
            path = None
        if path is None or not merkle.verify_consistency(
            first.tree_size, head.tree_size, first.root_hash, head.root_hash, path
        ):
            report.problems.append(
                f"{earlier['consistency']}: the consistency proof from "
                f"{earlier['tree_head']} to {manifest['tree_head']} "
                "does not verify (history rewritten?)"
            )
    return heads


def _tsa_context(trust_dir: Path | None) -> Any:
    """A validation context over the trust folder's certificates, for tree-head tokens."""
    if trust_dir is None:
        return None
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509
    from pyhanko_certvalidator import ValidationContext

    roots, others = [], []
    for path in sorted(trust_dir.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        blobs = (
            [der for _, _, der in asn1_pem.unarmor(data, multiple=True)]
            if asn1_pem.detect(data)
            else [data]
        )
        for der in blobs:
            try:
                cert = x509.Certificate.load(der)
                _ = cert.subject
            except ValueError:
                continue
            (roots if cert.self_signed else others).append(cert)
    if not roots:
        return None
    return ValidationContext(
        trust_roots=roots, other_certs=others, allow_fetching=False, revocation_mode="soft-fail"
    )


def _verify_item(
    zf: zipfile.ZipFile,
    item: dict[str, Any],
    head: SignedTreeHead,
    heads: dict[str, SignedTreeHead],
    report: BundleReport,
    signed_revisions: set[str],
) -> None:
    report.items += 1
    names = (item.get("entry", ""), item.get("artefact", ""), item.get("proof", ""))
    if not all(n in zf.namelist() for n in names):
        return  # already named as removed
    entry_bytes, data = zf.read(names[0]), zf.read(names[1])
    try:
        entry = parse_entry(entry_bytes)
    except ValueError as exc:
        report.problems.append(f"{names[0]}: not a canonical log entry ({exc})")
        return
    sha = hashlib.sha256(data).hexdigest()
    if sha != entry["sha256"]:
        report.problems.append(
            f"{names[1]}: its SHA-256 is not the one entry {item['index']} records"
        )
    elif entry["type"] == "signature.pdf":
        signed_revisions.add(sha)
    try:
        proof = json.loads(zf.read(names[2]))
        path = [base64.b64decode(h) for h in proof["inclusion_path"]]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (ValueError, KeyError, TypeError):
        report.problems.append(f"{names[2]}: not an inclusion proof")
        return
    if (
        index != item["index"]
        or size != head.tree_size
        or not merkle.verify_inclusion(
            index, size, merkle.leaf_hash(entry_bytes), path, head.root_hash
        )
    ):
        report.problems.append(
            f"{names[2]}: entry {item['index']} is not proven included "
            f"in the tree head of size {head.tree_size}"
        )
    first = heads.get(item.get("first_published_in", ""))
    if first is not None and first.tree_size <= item["index"]:
        report.problems.append(
            f"{item['first_published_in']}: does not contain entry "
            f"{item['index']} it is said to publish"
        )


def _verify_cards(
    zf: zipfile.ZipFile,
    manifest: dict[str, Any],
    signed_revisions: set[str],
    report: BundleReport,
    trust_dir: Path | None,
    verifier: Any,
) -> None:
    for card in manifest.get("cards", []):
        name = card.get("card")
        if not name or name not in zf.namelist():
            continue
        report.cards += 1
        data = zf.read(name)
        from docservice.verification.card import read_card
        from docservice.verification.limits import Limits

        parsed = read_card(data, Limits())
        if parsed is None:
            report.problems.append(f"{name}: not a document card")
            continue
        if hashlib.sha256(parsed.original.data).hexdigest() not in signed_revisions:
            report.problems.append(
                f"{name}: its embedded original is not a signed revision recorded in this bundle"
            )
            continue
        if trust_dir is None:
            continue
        if verifier is None:
            from docservice.verification import Verifier, VerifierConfig

            verifier = Verifier(VerifierConfig(trust_dir=trust_dir, fetch_revocation=False))
        result = verifier.verify(data, file_name=name.rsplit("/", 1)[-1])
        failed = [s.index for s in result.signatures if s.indication.value == "TOTAL_FAILED"]
        if failed:
            report.problems.append(f"{name}: signature(s) {failed} fail verification")
