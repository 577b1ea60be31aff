"""Detached CMS (PKCS#7) signatures over arbitrary bytes, e.g. a package's SHA256SUMS.

The DER output verifies with stock OpenSSL on the receiving side:
    openssl cms -verify -binary -inform DER -in SHA256SUMS.p7s -content SHA256SUMS -CAfile ca.pem
Validation never fetches anything (allow_fetching=False, no revocation fetching on an air gap).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import cms
from cryptography import x509

from app.model.errors import IntegrityError
from app.model.verification import SignerInfo
from reports import pki

if TYPE_CHECKING:  # pyHanko loads lazily: it is slow to import and only signing needs it
    from pyhanko.sign import signers
    from pyhanko_certvalidator import ValidationContext

# pyHanko logs every failed path build with a traceback; results are reported to the user through
# our own messages, so keep those logs out of the terminal unless the app configures logging.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


def run_sync[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run a pyHanko coroutine from synchronous code, also when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def validation_context(trusted_roots: Sequence[x509.Certificate], other_certs: Sequence[x509.Certificate] = (),
                       moment: datetime | None = None) -> ValidationContext:
    """Offline validation context: explicit trust roots only (never the OS list), no fetching."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=[pki.to_asn1_cert(c) for c in trusted_roots],
        other_certs=[pki.to_asn1_cert(c) for c in other_certs],
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=moment,
    )


def _signer(identity_key: pki.PrivateKey, cert: x509.Certificate, chain: Sequence[x509.Certificate]
            ) -> signers.SimpleSigner:
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return signers.SimpleSigner(
        signing_cert=pki.to_asn1_cert(cert),
        signing_key=pki.to_asn1_key(identity_key),
        cert_registry=SimpleCertificateStore.from_certs([pki.to_asn1_cert(c) for c in chain]),
    )


def sign_detached(data: bytes, key: pki.PrivateKey, cert: x509.Certificate,
                  chain: Sequence[x509.Certificate] = (), signing_time: datetime | None = None) -> bytes:
    """DER-encoded CMS SignedData (detached) over `data`, SHA-256, certificates embedded."""
    return sign_detached_with(_signer(key, cert, chain), data, signing_time)


def sign_detached_with(signer: Any, data: bytes, signing_time: datetime | None = None) -> bytes:
    """Same, with any pyHanko signer (e.g. a PKCS#11 token signer). Signing time: the local clock."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    attrs = PdfCMSSignedAttributes(signing_time=signing_time or datetime.now(UTC))
    content = cms.ContentInfo({"content_type": "data", "content": data})
    signed = run_sync(signer.async_sign_general_data(content, "sha256", detached=True, signed_attr_settings=attrs))
    return bytes(signed.dump())


def _load(signature: bytes, what: str) -> cms.SignedData:
    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        signed.native  # noqa: B018  force a full parse so damage shows here, not deep in validation
        return signed
    except Exception:
        raise IntegrityError(f"{what}: not a readable CMS/PKCS#7 signature (damaged or wrong file)") from None


def verify_detached(data: bytes, signature: bytes, trusted_roots: Sequence[x509.Certificate],
                    what: str = "signature", at: datetime | None = None) -> SignerInfo:
    """Check integrity and trust; raise IntegrityError naming the problem (tampered, untrusted, expired)."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    signed = _load(signature, what)
    embedded = [pki.from_asn1_cert(c.chosen) for c in signed["certificates"]] if signed["certificates"] else []
    ctx = validation_context(trusted_roots, embedded, at)
    try:
        status = run_sync(async_validate_detached_cms(data, signed, signer_validation_context=ctx))
    except Exception as exc:
        raise IntegrityError(f"{what}: cannot be validated ({type(exc).__name__}: {exc})") from None
    cert = pki.from_asn1_cert(status.signing_cert)
    if not status.intact or not status.valid:
        raise IntegrityError(f"{what}: the signed content was changed after signing (signature does not match)")
    signing_time = status.signer_reported_dt
    if not status.trusted:
        now = at or datetime.now(UTC)
        # Name the most useful cause: an expired certificate in the chain, else missing trust.
        for c in [cert, *embedded]:
            problem = pki.validity_problem(c, now)
            if problem:
                raise IntegrityError(f"{what}: {problem}")
        # A certificate that does chain may still be refused for its key usage: say so, not "untrusted".
        usage = key_usage_problem(cert)
        if usage and pki.chain_problem(cert, embedded, trusted_roots, now) is None:
            raise IntegrityError(f"{what}: {usage}")
        raise IntegrityError(
            f"{what}: signer {pki.common_name(cert)} (issued by {cert.issuer.rfc4514_string()}) does not chain "
            "to a trusted root on this workstation"
        )
    return SignerInfo(pki.common_name(cert), cert.issuer.rfc4514_string(), cert.serial_number,
                      pki.fingerprint(cert), signing_time, cert)


_USAGE_NAMES = {"non_repudiation": "nonRepudiation (content commitment)", "digital_signature": "digitalSignature"}


def key_usage_problem(cert: x509.Certificate, required: set[str] | None = None) -> str:
    """Why `cert` may not sign documents under the key usage pyHanko requires (`required`; by
    default that of a CMS signature, nonRepudiation), or "" when it may."""
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import StandardCMSSignatureStatus
    from pyhanko_certvalidator.errors import InvalidCertificateError

    required = required if required is not None else StandardCMSSignatureStatus.key_usage
    try:
        KeyUsageConstraints(key_usage=set(required)).validate(pki.to_asn1_cert(cert))
    except InvalidCertificateError:
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            present = [n for n, on in (("digitalSignature", usage.digital_signature),
                                       ("nonRepudiation", usage.content_commitment),
                                       ("keyCertSign", usage.key_cert_sign), ("cRLSign", usage.crl_sign)) if on]
        except x509.ExtensionNotFound:
            present = []
        names = " or ".join(_USAGE_NAMES.get(u, u) for u in sorted(required))
        return (f"the certificate of {pki.common_name(cert)} chains to a trusted root but lacks the key usage "
                f"{names} required to sign documents (it allows only {', '.join(present) or 'nothing'})")
    return ""
