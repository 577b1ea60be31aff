"""A partner's receipt from media: receipt.json and its detached CMS signature receipt.json.p7s.

The signature is what `openssl cms -sign -binary -outform DER` makes (docs/PARTNERS.md): one
SignerInfo, SHA-256/384/512, RSA PKCS#1 v1.5 or ECDSA, usually with signed attributes. It is
verified here with the public key of a certificate the caller trusts (the partner's registered
receipt certificate), never with a certificate the file itself carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import cms
from asn1crypto import tsp as _tsp  # noqa: F401  registers CMS attribute names (signing_certificate_v2)
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from app.foundation.files import regular_file
from app.model.dissemination import MAX_RECEIPT_BYTES, ReceiptStatement
from app.model.errors import ValidationError

# asn1crypto caches its name lookups the first time one is used; asn1crypto.tsp adds attribute names
# that pyHanko's signer needs, so it must be loaded before parsing a receipt builds that cache.

SIGNATURE_SUFFIX = ".p7s"
MAX_SIGNATURE_BYTES = 64 * 1024
_HASHES: dict[str, tuple[type[hashes.HashAlgorithm], str]] = {
    "sha256": (hashes.SHA256, "sha256"), "sha384": (hashes.SHA384, "sha384"), "sha512": (hashes.SHA512, "sha512"),
}


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        regular_file(path, what.removeprefix("a "))
        size = path.stat().st_size
        if size > limit:
            raise ValidationError(str(path), f"{what} is at most {limit // 1024} KB; this file is {size} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(str(path), f"{what} not found") from None
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be read ({exc.strerror})") from None


def read(path: Path | str) -> tuple[Path, bytes, bytes, ReceiptStatement]:
    """(receipt path, receipt bytes, signature bytes, statement). `path` may name either file."""
    path = Path(path)
    if path.name.endswith(SIGNATURE_SUFFIX):
        path = path.with_name(path.name[: -len(SIGNATURE_SUFFIX)])
    data = _read(path, MAX_RECEIPT_BYTES, "a receipt")
    sig_path = path.with_name(path.name + SIGNATURE_SUFFIX)
    if not sig_path.exists():
        raise ValidationError(str(path), f"its detached signature {sig_path.name} is missing; a receipt counts only "
                                         "when signed with the partner's receipt certificate")
    signature = _read(sig_path, MAX_SIGNATURE_BYTES, "a receipt signature")
    return path, data, signature, ReceiptStatement.parse(data, str(path))


def _signer_info(signature: bytes, source: str) -> tuple[cms.SignerInfo, cms.SignedData]:
    # Parsed lazily (a full asn1crypto parse costs ten times the verification); damage found on
    # the way is reported by `signer` as an unreadable signature.
    info = cms.ContentInfo.load(signature)
    if info["content_type"].native != "signed_data":
        raise ValueError("not SignedData")
    signed = info["content"]
    if signed["encap_content_info"]["content"].native is not None:
        raise ValidationError(source, "the signature must be detached (openssl cms -sign without -nodetach)")
    infos = list(signed["signer_infos"])
    if len(infos) != 1:
        raise ValidationError(source, f"a receipt carries exactly one signature; this one has {len(infos)}")
    return infos[0], signed


def _matches(sid: cms.SignerIdentifier, cert: asn1_x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        return bool(sid.chosen["issuer"] == cert.issuer and sid.chosen["serial_number"].native == cert.serial_number)
    return bool(cert.key_identifier is not None and sid.chosen.native == cert.key_identifier)


def _candidate_matches(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        return bool(sid.chosen["issuer"].dump() == cert.issuer.public_bytes()
                    and sid.chosen["serial_number"].native == cert.serial_number)
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return False
    return bool(sid.chosen.native == ski)


def _describe(sid: cms.SignerIdentifier, signed: cms.SignedData) -> str:
    embedded = [c.chosen for c in signed["certificates"] or [] if c.name == "certificate"]
    for cert in embedded:
        if _matches(sid, cert):
            return f"{cert.subject.human_friendly} (SHA-256 {hashlib.sha256(cert.dump()).hexdigest()[:16]}…)"
    if sid.name == "issuer_and_serial_number":
        return f"serial {sid.chosen['serial_number'].native} of {sid.chosen['issuer'].human_friendly}"
    return "an unnamed key"


def signer(data: bytes, signature: bytes, candidates: Sequence[x509.Certificate], source: str,
           who: str) -> x509.Certificate:
    """The certificate among `candidates` whose key made `signature` over `data`.

    ValidationError naming `source`: unreadable, signed by a key that is not among the candidates
    (`who` names whose they should be), or a signature that does not match the data."""
    try:
        return _signer(data, signature, candidates, source, who)
    except ValidationError:
        raise
    except Exception:  # asn1crypto reports damage as many exception types
        raise ValidationError(source, "not a readable CMS/PKCS#7 signature (damaged or wrong file)") from None


def _signer(data: bytes, signature: bytes, candidates: Sequence[x509.Certificate], source: str,
            who: str) -> x509.Certificate:
    si, signed = _signer_info(signature, source)
    chosen = next((c for c in candidates if _candidate_matches(si["sid"], c)), None)
    if chosen is None:
        raise ValidationError(source, f"signed by {_describe(si['sid'], signed)}, not with {who}")
    digest_name = si["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise ValidationError(source, f"digest {digest_name} is not allowed; use SHA-256, SHA-384 or SHA-512")
    hash_cls, hashlib_name = _HASHES[digest_name]
    content_digest = hashlib.new(hashlib_name, data).digest()
    attrs = si["signed_attrs"]
    if attrs is not None and len(attrs):
        values = {a["type"].native: a["values"] for a in attrs}
        digests = values.get("message_digest")
        if digests is None or digests[0].native != content_digest:
            raise ValidationError(source, "the signature does not match the receipt (it was changed after signing, "
                                          "or signs another file)")
        ctype = values.get("content_type")
        if ctype is None or ctype[0].native != "data":
            raise ValidationError(source, "the signed attributes do not declare plain data content")
        signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over the attributes as a SET (RFC 5652, 5.4)
    else:
        signed_bytes = data
    raw = si["signature"].native
    public = chosen.public_key()
    algo = si["signature_algorithm"].signature_algo
    try:
        if isinstance(public, rsa.RSAPublicKey) and algo == "rsassa_pkcs1v15":
            public.verify(raw, signed_bytes, padding.PKCS1v15(), hash_cls())
        elif isinstance(public, ec.EllipticCurvePublicKey) and algo == "ecdsa":
            public.verify(raw, signed_bytes, ec.ECDSA(hash_cls()))
        else:
            raise ValidationError(source, f"signature algorithm {algo} with a {type(public).__name__} key is not "
                                          "supported; sign with RSA PKCS#1 v1.5 or ECDSA")
    except InvalidSignature:
        raise ValidationError(source, "the signature does not match the receipt (it was changed after signing, "
                                      "or the signature was made with another key)") from None
    return chosen
