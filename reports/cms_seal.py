"""Seal bytes to partner certificates: CMS AuthEnvelopedData (RFC 5083) with AES-256-GCM (RFC 5084).

API (pure: no Qt, no storage, no network):
    seal(plaintext, recipients) -> DER      one RecipientInfo per certificate
    open_sealed(data, key, cert) -> bytes   the plaintext, only once the GCM tag has been checked
    sealed_recipients(data) -> [Recipient]  who a sealed file is for (issuer + serial), without a key

Per recipient key type:
* RSA (>= 2048 bits): KeyTransRecipientInfo, RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017/4055).
* EC P-256 / P-384: KeyAgreeRecipientInfo, ephemeral-static ECDH, dhSinglePass-stdDH-sha256kdf-scheme
  (P-256) or -sha384kdf-scheme (P-384), ANSI X9.63 KDF over ECC-CMS-SharedInfo, AES-256 key wrap
  (RFC 5753 / RFC 8418 style).
Recipients are named by issuer and serial number, as `openssl cms -decrypt -recip` expects.

Opening also accepts what stock OpenSSL 3 writes with `openssl cms -encrypt -aes-256-gcm`: OAEP with
SHA-1/256/384/512, ECDH with the SHA-1 or SHA-2 X9.63 KDF (standard or cofactor DH, identical on
P-256/P-384), AES-128/192/256 key wrap, authenticated attributes (checked as GCM associated data),
and BER indefinite-length encodings (`-stream`). It refuses RSA PKCS#1 v1.5 key transport
(OpenSSL's default for RSA; disallowed by NIST SP 800-131A), unauthenticated EnvelopedData and any
content cipher other than AES-256-GCM, each with a message that names the algorithm.

Every failure raises a SealError subclass whose message names the input (`what`) and the problem;
no partial plaintext is ever returned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from app.model.errors import FrontierError

MAX_SEALED = 2 << 30  # the largest file a package may hold (reports/verify_package.py MAX_FILE)
ENVELOPE_SLACK = 1 << 20  # room for recipient entries around the largest content
MIN_RSA_BITS = 2048
NONCE_LEN = 12
TAG_LEN = 16
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class SealError(FrontierError):
    """A package could not be sealed or opened; the message names the input and the problem."""


class NotARecipient(SealError):
    """The sealed data holds no key for this certificate (or the key does not fit)."""


class SealTampered(SealError):
    """The GCM tag (or a wrapped key) did not check out: the data was changed or is not for this key."""


class UnsupportedSeal(SealError):
    """Readable CMS, but an algorithm or structure this module does not accept."""


HashFactory = Callable[[], hashes.HashAlgorithm]
_HASHES: dict[str, HashFactory] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
# X9.63 KDF key agreement schemes (RFC 5753 / SEC 1); cofactor DH equals standard DH on the NIST
# prime curves (cofactor 1), so both families decode the same way.
_KDF_SCHEMES: dict[str, str] = {
    "1.3.133.16.840.63.0.2": "sha1", "1.3.132.1.11.0": "sha224", "1.3.132.1.11.1": "sha256",
    "1.3.132.1.11.2": "sha384", "1.3.132.1.11.3": "sha512",
    "1.3.133.16.840.63.0.3": "sha1", "1.3.132.1.14.0": "sha224", "1.3.132.1.14.1": "sha256",
    "1.3.132.1.14.2": "sha384", "1.3.132.1.14.3": "sha512",
}
# What we write: stdDH with the curve's matching hash (sha256kdf for P-256, sha384kdf for P-384, as CNSA).
_SCHEME_FOR_CURVE: dict[str, tuple[str, HashFactory]] = {
    "secp256r1": ("1.3.132.1.11.1", hashes.SHA256), "secp384r1": ("1.3.132.1.11.2", hashes.SHA384),
}
_WRAP_KEY_LEN = {"aes128_wrap": 16, "aes192_wrap": 24, "aes256_wrap": 32}


class GCMParameters(core.Sequence):
    """RFC 5084 GCMParameters (asn1crypto has no spec for it)."""

    _fields = [
        ("aes_nonce", core.OctetString),
        ("aes_icvlen", core.Integer, {"default": 12}),
    ]


class EccCmsSharedInfo(core.Sequence):
    """RFC 5753 ECC-CMS-SharedInfo: the X9.63 KDF's SharedInfo."""

    _fields = [
        ("key_info", cms.KeyEncryptionAlgorithm),
        ("entity_u_info", core.OctetString, {"explicit": 0, "optional": True}),
        ("supp_pub_info", core.OctetString, {"explicit": 2}),
    ]


@dataclass(frozen=True)
class Recipient:
    """One RecipientInfo of a sealed file, for display: who can open it and how."""

    issuer: str
    serial: int
    method: str  # "RSA key transport" / "ECDH key agreement"

    def describe(self) -> str:
        return f"{self.issuer}, serial {self.serial:X} ({self.method})"


# ---------------------------------------------------------------- sealing

def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _issuer_serial(cert: x509.Certificate) -> cms.IssuerAndSerialNumber:
    a = _asn1_cert(cert)
    return cms.IssuerAndSerialNumber({"issuer": a.issuer, "serial_number": a.serial_number})


def _who(cert: x509.Certificate) -> str:
    return f"certificate {cert.subject.rfc4514_string() or '(no subject)'} (serial {cert.serial_number:X})"


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def check_recipient(cert: x509.Certificate, at: datetime | None = None) -> None:
    """Refuse a certificate that cannot (or may not) receive a sealed package, saying why."""
    now = at or datetime.now(UTC)
    who = _who(cert)
    if now < cert.not_valid_before_utc:
        raise SealError(f"{who} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    if now > cert.not_valid_after_utc:
        raise SealError(f"{who} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    pub = cert.public_key()
    usage = _key_usage(cert)
    if isinstance(pub, rsa.RSAPublicKey):
        if pub.key_size < MIN_RSA_BITS:
            raise UnsupportedSeal(f"{who} has a {pub.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are required")
        if usage is not None and not usage.key_encipherment:
            raise SealError(f"{who} does not allow keyEncipherment (its key usage forbids encrypting to it)")
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        if pub.curve.name not in _SCHEME_FOR_CURVE:
            raise UnsupportedSeal(f"{who} has an EC key on {pub.curve.name}; only P-256 and P-384 are supported")
        if usage is not None and not usage.key_agreement:
            raise SealError(f"{who} does not allow keyAgreement (its key usage forbids encrypting to it)")
    else:
        raise UnsupportedSeal(f"{who} has a {type(pub).__name__} key; only RSA and EC P-256/P-384 are supported")


def _ktri(cert: x509.Certificate, cek: bytes) -> cms.RecipientInfo:
    pub = cert.public_key()
    assert isinstance(pub, rsa.RSAPublicKey)
    encrypted = pub.encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                              label=None))
    oaep = algos.RSAESOAEPParams({
        "hash_algorithm": {"algorithm": "sha256"},
        "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
    })
    return cms.RecipientInfo(name="ktri", value=cms.KeyTransRecipientInfo({
        "version": "v0",
        "rid": cms.RecipientIdentifier(name="issuer_and_serial_number", value=_issuer_serial(cert)),
        "key_encryption_algorithm": {"algorithm": "rsaes_oaep", "parameters": oaep},
        "encrypted_key": encrypted,
    }))


def _shared_info(wrap_alg: cms.KeyEncryptionAlgorithm, ukm: bytes | None, key_len: int) -> bytes:
    info = {"key_info": wrap_alg, "supp_pub_info": (key_len * 8).to_bytes(4, "big")}
    if ukm is not None:
        info["entity_u_info"] = ukm
    return EccCmsSharedInfo(info).dump()


def _kek(shared: bytes, hash_cls: HashFactory, wrap_alg: cms.KeyEncryptionAlgorithm,
         ukm: bytes | None, key_len: int) -> bytes:
    return X963KDF(algorithm=hash_cls(), length=key_len,
                   sharedinfo=_shared_info(wrap_alg, ukm, key_len)).derive(shared)


def _kari(cert: x509.Certificate, cek: bytes) -> cms.RecipientInfo:
    pub = cert.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    scheme, hash_cls = _SCHEME_FOR_CURVE[pub.curve.name]
    ephemeral = ec.generate_private_key(pub.curve)
    shared = ephemeral.exchange(ec.ECDH(), pub)
    wrap_alg = cms.KeyEncryptionAlgorithm({"algorithm": "aes256_wrap"})
    wrapped = aes_key_wrap(_kek(shared, hash_cls, wrap_alg, None, 32), cek)
    point = ephemeral.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint)
    # RFC 5753: the originator key is id-ecPublicKey with the point; the curve is the recipient's.
    originator = keys.PublicKeyInfo({"algorithm": {"algorithm": "ec"}, "public_key": keys.ECPointBitString(point)})
    return cms.RecipientInfo(name="kari", value=cms.KeyAgreeRecipientInfo({
        "version": "v3",
        "originator": cms.OriginatorIdentifierOrKey(name="originator_key", value=originator),
        "key_encryption_algorithm": {"algorithm": scheme, "parameters": wrap_alg},
        "recipient_encrypted_keys": [{
            "rid": cms.KeyAgreementRecipientIdentifier(name="issuer_and_serial_number", value=_issuer_serial(cert)),
            "encrypted_key": wrapped,
        }],
    }))


def seal(plaintext: bytes, recipients: Sequence[x509.Certificate], at: datetime | None = None) -> bytes:
    """DER ContentInfo(AuthEnvelopedData) of `plaintext` for every certificate in `recipients`."""
    if not recipients:
        raise SealError("no recipient certificate given: a sealed package needs at least one")
    if len(plaintext) > MAX_SEALED:
        raise SealError(f"the content is {len(plaintext):,} bytes; at most {MAX_SEALED:,} bytes can be sealed")
    unique: dict[bytes, x509.Certificate] = {}
    for cert in recipients:
        check_recipient(cert, at)
        unique.setdefault(_issuer_serial(cert).dump(), cert)
    cek, nonce = os.urandom(32), os.urandom(NONCE_LEN)
    infos = [_ktri(c, cek) if isinstance(c.public_key(), rsa.RSAPublicKey) else _kari(c, cek)
             for c in unique.values()]
    encryptor = Cipher(algorithms.AES(cek), modes.GCM(nonce)).encryptor()
    ciphertext = encryptor.update(plaintext)
    encryptor.finalize()  # GCM: no further output, computes the tag
    # asn1crypto copies a value once per nesting level when it encodes: the small parts come from it,
    # the ciphertext is placed once, between DER headers written here (same bytes, 100 MB in one copy).
    alg = algos.EncryptionAlgorithm({
        "algorithm": "aes256_gcm", "parameters": GCMParameters({"aes_nonce": nonce, "aes_icvlen": TAG_LEN})})
    eci = [cms.ContentType("data").dump(), alg.dump(), _header(0x80, len(ciphertext)), ciphertext]
    aed = [core.Integer(0).dump(), cms.RecipientInfos(infos).dump(), _header(0x30, _size(eci)), *eci,
           core.OctetString(encryptor.tag).dump()]
    explicit = [_header(0x30, _size(aed)), *aed]
    info = [cms.ContentType("authenticated_enveloped_data").dump(), _header(0xA0, _size(explicit)), *explicit]
    return b"".join([_header(0x30, _size(info)), *info])


def _size(parts: Sequence[bytes]) -> int:
    return sum(len(p) for p in parts)


def _header(tag: int, length: int) -> bytes:
    """DER identifier and definite length octets."""
    if length < 0x80:
        return bytes([tag, length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw


# ---------------------------------------------------------------- opening

@dataclass(frozen=True)
class _Parsed:
    recipient_infos: list[cms.RecipientInfo]
    nonce: bytes
    tag: bytes
    ciphertext: bytes | memoryview
    aad: bytes


def _tlv(buf: memoryview, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`; ValueError unless definite and inside."""
    if pos + 2 > end:
        raise ValueError("truncated")
    tag, first, pos = buf[pos], buf[pos + 1], pos + 2
    if tag & 0x1F == 0x1F or first == 0x80:
        raise ValueError("high tag number or indefinite length")
    length = first
    if first > 0x80:
        n = first & 0x7F
        if n > 8 or pos + n > end:
            raise ValueError("bad length")
        length, pos = int.from_bytes(buf[pos:pos + n], "big"), pos + n
    if pos + length > end:
        raise ValueError("truncated")
    return tag, pos, pos + length


def _children(buf: memoryview, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element in start..end."""
    out, pos = [], start
    while pos < end:
        tag, cs, ce = _tlv(buf, pos, end)
        out.append((tag, pos, cs, ce))
        pos = ce
    return out


def _cut_ciphertext(data: bytes) -> tuple[bytes, memoryview] | None:
    """For a DER AuthEnvelopedData: the message with its encrypted content emptied (small, for
    asn1crypto, which would copy a large value once per nesting level) and a view of the content.
    None when the layout is anything else (BER, unexpected shape): then asn1crypto parses it all."""
    buf = memoryview(data)
    try:
        tag, cs, ce = _tlv(buf, 0, len(buf))
        if tag != 0x30 or ce != len(buf):
            return None
        outer = _children(buf, cs, ce)
        if [t for t, *_ in outer] != [0x06, 0xA0]:
            return None
        inner = _children(buf, outer[1][2], outer[1][3])
        if len(inner) != 1 or inner[0][0] != 0x30:
            return None
        fields = _children(buf, inner[0][2], inner[0][3])
        eci_at = [i for i, f in enumerate(fields) if f[0] == 0x30]
        if len(eci_at) != 1:
            return None
        eci = fields[eci_at[0]]
        eci_fields = _children(buf, eci[2], eci[3])
        if len(eci_fields) != 3 or eci_fields[2][0] != 0x80:
            return None
    except ValueError:
        return None
    _, content_at, content_start, content_end = eci_fields[2]

    def raw(start: int, end: int) -> bytes:
        return bytes(buf[start:end])

    eci_parts = [raw(eci_fields[0][1], content_at), b"\x80\x00"]
    aed_parts = [raw(fields[0][1], eci[1]), _header(0x30, _size(eci_parts)), *eci_parts, raw(eci[3], inner[0][3])]
    explicit = [_header(0x30, _size(aed_parts)), *aed_parts]
    info = [raw(outer[0][1], outer[0][3]), _header(0xA0, _size(explicit)), *explicit]
    return b"".join([_header(0x30, _size(info)), *info]), buf[content_start:content_end]


def _der_set(contents: bytes) -> bytes:
    """DER of a SET OF with these contents (authAttrs are authenticated with their SET OF tag)."""
    return _header(0x31, len(contents)) + contents


def _parse(data: bytes, what: str) -> _Parsed:
    """The parts of a sealed message; a DER one without copying its (large) encrypted content."""
    if len(data) > MAX_SEALED + ENVELOPE_SLACK:
        raise SealError(f"{what}: {len(data):,} bytes is larger than any sealed package this app opens")
    cut = _cut_ciphertext(data)
    if cut is not None:
        parsed = _parse_small(cut[0], what)
        return _Parsed(parsed.recipient_infos, parsed.nonce, parsed.tag, cut[1], parsed.aad)
    return _parse_small(data, what)


def _parse_small(data: bytes, what: str) -> _Parsed:
    try:
        info = cms.ContentInfo.load(data, strict=True)
        kind = info["content_type"].native
    except Exception:
        raise SealError(f"{what}: not a CMS message (truncated, damaged or another kind of file)") from None
    if kind == "enveloped_data":
        raise UnsupportedSeal(f"{what}: is CMS EnvelopedData without authentication (e.g. AES-CBC); only "
                              "AuthEnvelopedData with AES-256-GCM is accepted (openssl cms -encrypt -aes-256-gcm)")
    if kind != "authenticated_enveloped_data":
        raise UnsupportedSeal(f"{what}: is CMS {kind}, not an AuthEnvelopedData sealed package")
    try:
        env = info["content"]
        eci = env["auth_encrypted_content_info"]
        alg = eci["content_encryption_algorithm"]
        alg_name = alg["algorithm"].native
        content_type = eci["content_type"].native
        ciphertext = eci["encrypted_content"].native
        tag = env["mac"].native
        auth_attrs = env["auth_attrs"]
        aad = b"" if isinstance(auth_attrs, core.Void) else _der_set(auth_attrs.contents)
        recipient_infos = list(env["recipient_infos"])
    except Exception:
        raise SealError(f"{what}: damaged AuthEnvelopedData (a field cannot be read)") from None
    if alg_name != "aes256_gcm":
        raise UnsupportedSeal(f"{what}: content is encrypted with {alg_name}; only AES-256-GCM is accepted")
    try:
        params = GCMParameters.load(alg["parameters"].dump(), strict=True)
        nonce, icvlen = params["aes_nonce"].native, params["aes_icvlen"].native
    except Exception:
        raise SealError(f"{what}: damaged AES-GCM parameters (nonce and tag length cannot be read)") from None
    if content_type != "data":
        raise UnsupportedSeal(f"{what}: encloses CMS {content_type}, not data")
    if ciphertext is None:
        raise UnsupportedSeal(f"{what}: the encrypted content is detached (not in the file)")
    if len(nonce) != NONCE_LEN:
        raise UnsupportedSeal(f"{what}: GCM nonce of {len(nonce)} bytes; only {NONCE_LEN}-byte nonces are accepted")
    if not 12 <= icvlen <= 16 or len(tag) != icvlen:
        raise SealError(f"{what}: the authentication tag is {len(tag)} bytes where the parameters say {icvlen}")
    if not recipient_infos:
        raise SealError(f"{what}: lists no recipients")
    return _Parsed(recipient_infos, nonce, tag, ciphertext, aad)


def _matches(rid: core.Choice, cert: x509.Certificate, ski: bytes | None) -> bool:
    """Does a RecipientIdentifier / KeyAgreeRecipientIdentifier name `cert`?"""
    issuer_serial, rid_ski = _rid_parts(rid)
    if issuer_serial is None:
        return ski is not None and rid_ski == ski
    mine = _issuer_serial(cert)
    return bool(issuer_serial["serial_number"].native == mine["serial_number"].native
                and issuer_serial["issuer"] == mine["issuer"])


def _ski(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _rid_parts(rid: core.Choice) -> tuple[cms.IssuerAndSerialNumber | None, bytes | None]:
    if rid.name == "issuer_and_serial_number":
        return rid.chosen, None
    if rid.name == "subject_key_identifier":
        return None, rid.chosen.native
    return None, rid.chosen["subject_key_identifier"].native  # r_key_id


def _unwrap_ktri(ktri: cms.KeyTransRecipientInfo, key: PrivateKey, what: str) -> bytes:
    alg = ktri["key_encryption_algorithm"]
    name = alg["algorithm"].native
    if name == "rsaes_pkcs1v15":
        raise UnsupportedSeal(f"{what}: the content key is encrypted with RSA PKCS#1 v1.5, which is not accepted "
                              "(NIST SP 800-131A); the sender must use RSAES-OAEP, e.g. openssl cms -encrypt "
                              "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256")
    if name != "rsaes_oaep":
        raise UnsupportedSeal(f"{what}: key transport algorithm {name} is not supported (RSAES-OAEP only)")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise NotARecipient(f"{what}: this recipient's key is RSA but the private key given is not")
    params = alg["parameters"]
    hash_name = params["hash_algorithm"]["algorithm"].native
    mgf = params["mask_gen_algorithm"]
    mgf_hash = mgf["parameters"]["algorithm"].native
    label = params["p_source_algorithm"]["parameters"].native or None
    if mgf["algorithm"].native != "mgf1" or hash_name not in _HASHES or mgf_hash not in _HASHES:
        raise UnsupportedSeal(f"{what}: RSAES-OAEP with {hash_name}/{mgf['algorithm'].native}-{mgf_hash} "
                              "is not supported")
    try:
        return key.decrypt(ktri["encrypted_key"].native,
                           padding.OAEP(mgf=padding.MGF1(_HASHES[mgf_hash]()), algorithm=_HASHES[hash_name](),
                                        label=label))
    except ValueError:
        raise SealTampered(f"{what}: the content key does not decrypt with this private key (wrong key, or the "
                           "package was changed)") from None


def _unwrap_kari(kari: cms.KeyAgreeRecipientInfo, encrypted_key: bytes, key: PrivateKey, what: str) -> bytes:
    alg = kari["key_encryption_algorithm"]
    scheme = alg["algorithm"].dotted
    if scheme not in _KDF_SCHEMES:
        raise UnsupportedSeal(f"{what}: key agreement scheme {alg['algorithm'].native} is not supported "
                              "(dhSinglePass-stdDH/cofactorDH with an X9.63 KDF only)")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise NotARecipient(f"{what}: this recipient's key is EC but the private key given is not")
    wrap_alg = cms.KeyEncryptionAlgorithm.load(alg["parameters"].dump(), strict=True)
    wrap_name = wrap_alg["algorithm"].native
    if wrap_name not in _WRAP_KEY_LEN:
        raise UnsupportedSeal(f"{what}: key wrap algorithm {wrap_name} is not supported (AES key wrap only)")
    originator = kari["originator"]
    if originator.name != "originator_key":
        raise UnsupportedSeal(f"{what}: static-static ECDH (originator named by {originator.name}) is not supported")
    point = originator.chosen["public_key"].native
    if not isinstance(point, bytes):
        raise SealError(f"{what}: the originator's public key cannot be read")
    try:
        ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, point)
    except ValueError:
        raise SealTampered(f"{what}: the originator's public key is not a point on {key.curve.name}") from None
    ukm_field = kari["ukm"]
    ukm = None if isinstance(ukm_field, core.Void) else ukm_field.native
    key_len = _WRAP_KEY_LEN[wrap_name]
    kek = _kek(key.exchange(ec.ECDH(), ephemeral), _HASHES[_KDF_SCHEMES[scheme]], wrap_alg, ukm, key_len)
    try:
        return aes_key_unwrap(kek, encrypted_key)
    except (InvalidUnwrap, ValueError):
        raise SealTampered(f"{what}: the content key does not unwrap with this private key (wrong key, or the "
                           "package was changed)") from None


def _content_key(parsed: _Parsed, key: PrivateKey, cert: x509.Certificate, what: str) -> bytes:
    ski = _ski(cert)
    for ri in parsed.recipient_infos:
        try:
            if ri.name == "ktri":
                if _matches(ri.chosen["rid"], cert, ski):
                    return _unwrap_ktri(ri.chosen, key, what)
            elif ri.name == "kari":
                for rek in ri.chosen["recipient_encrypted_keys"]:
                    if _matches(rek["rid"], cert, ski):
                        return _unwrap_kari(ri.chosen, rek["encrypted_key"].native, key, what)
        except SealError:
            raise
        except Exception:
            raise SealError(f"{what}: a recipient entry is damaged (cannot be read)") from None
    try:  # the entries were only compared so far; naming them parses them, and one may be damaged
        others = "; ".join(r.describe() for r in _recipients(parsed.recipient_infos)) or "no readable recipient"
    except Exception:
        raise SealError(f"{what}: a recipient entry is damaged (cannot be read)") from None
    raise NotARecipient(f"{what}: not sealed to {_who(cert)} issued by {cert.issuer.rfc4514_string()}; "
                        f"it is sealed to: {others}")


def _check_pair(key: PrivateKey, cert: x509.Certificate, what: str) -> None:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*fmt) != cert.public_key().public_bytes(*fmt):
        raise NotARecipient(f"{what}: the private key given does not belong to {_who(cert)}")


def open_sealed(data: bytes, key: PrivateKey, cert: x509.Certificate, what: str = "sealed package") -> bytes:
    """The plaintext sealed to `cert`, decrypted with `key`; raises SealError (naming `what`) on any problem."""
    _check_pair(key, cert, what)
    parsed = _parse(data, what)
    cek = _content_key(parsed, key, cert, what)
    if len(cek) != 32:
        raise SealTampered(f"{what}: the content key is {len(cek)} bytes, not an AES-256 key")
    decryptor = Cipher(algorithms.AES(cek), modes.GCM(parsed.nonce, parsed.tag, min_tag_length=12)).decryptor()
    if parsed.aad:
        decryptor.authenticate_additional_data(parsed.aad)
    plaintext = decryptor.update(parsed.ciphertext)
    try:
        decryptor.finalize()
    except InvalidTag:
        raise SealTampered(f"{what}: the authentication tag does not match: the package was changed after "
                           "sealing (nothing was decrypted)") from None
    return plaintext


def _name_text(name: asn1_x509.Name) -> str:
    """RFC 4514 text of an asn1crypto Name, as cryptography prints certificate names."""
    try:
        rdns = [x509.RelativeDistinguishedName([
            x509.NameAttribute(x509.ObjectIdentifier(atv["type"].dotted), str(atv["value"].native))
            for atv in rdn]) for rdn in name.chosen]
        return x509.Name(rdns).rfc4514_string()
    except (ValueError, TypeError):
        return str(name.human_friendly)


def _recipients(infos: Sequence[cms.RecipientInfo]) -> list[Recipient]:
    out: list[Recipient] = []
    for ri in infos:
        pairs: list[tuple[core.Choice, str]] = []
        if ri.name == "ktri":
            pairs.append((ri.chosen["rid"], "RSA key transport"))
        elif ri.name == "kari":
            pairs += [(rek["rid"], "ECDH key agreement") for rek in ri.chosen["recipient_encrypted_keys"]]
        for rid, method in pairs:
            issuer_serial, ski = _rid_parts(rid)
            if issuer_serial is not None:
                out.append(Recipient(_name_text(issuer_serial["issuer"]),
                                     int(issuer_serial["serial_number"].native), method))
            elif ski is not None:
                out.append(Recipient(f"subject key identifier {ski.hex()}", 0, method))
    return out


def sealed_recipients(data: bytes, what: str = "sealed package") -> list[Recipient]:
    """Who `data` is sealed to (no key needed): shown before asking for one."""
    parsed = _parse(data, what)
    try:
        return _recipients(parsed.recipient_infos)
    except Exception:
        raise SealError(f"{what}: a recipient entry is damaged (cannot be read)") from None
