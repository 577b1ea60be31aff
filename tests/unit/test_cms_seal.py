"""Sealed packages (reports/cms_seal.py): interoperability with stock OpenSSL 3 in both directions,
wrong keys, tampering and hostile input."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.model.errors import FrontierError
from reports import cms_seal
from reports.cms_seal import NotARecipient, SealError, SealTampered, UnsupportedSeal, open_sealed, seal

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed on this machine")
PLAINTEXT = b"SHA256SUMS and a signed report\n" + bytes(range(256)) * 40


@dataclass
class Party:
    key: cms_seal.PrivateKey
    cert: x509.Certificate
    key_pem: Path
    cert_pem: Path


def make_party(tmp: Path, name: str, key: cms_seal.PrivateKey, usage: str | None = "default",
               days: int = 365, serial: int | None = None, issuer: str | None = None) -> Party:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or f"{name} CA")]))
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(now - timedelta(days=2))
               .not_valid_after(now + timedelta(days=days)))
    if usage is not None:
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        enc = usage == "default"
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=enc and is_rsa,
            data_encipherment=False, key_agreement=enc and not is_rsa, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
    cert = builder.sign(key, hashes.SHA256())
    key_pem, cert_pem = tmp / f"{name}.key.pem", tmp / f"{name}.cert.pem"
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Party(key, cert, key_pem, cert_pem)


KINDS = ["rsa", "p256", "p384"]


def _new_key(kind: str) -> cms_seal.PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(65537, 2048)
    return ec.generate_private_key(ec.SECP256R1() if kind == "p256" else ec.SECP384R1())


@pytest.fixture(scope="module")
def parties(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Party]:
    tmp = tmp_path_factory.mktemp("parties")
    out = {kind: make_party(tmp, f"partner-{kind}", _new_key(kind)) for kind in KINDS}
    out.update({f"other-{kind}": make_party(tmp, f"other-{kind}", _new_key(kind)) for kind in KINDS})
    return out


def openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], input=stdin, capture_output=True, timeout=60, check=False)


def openssl_decrypt(tmp: Path, sealed: bytes, party: Party) -> subprocess.CompletedProcess[bytes]:
    src = tmp / "in.p7m"
    src.write_bytes(sealed)
    return openssl("cms", "-decrypt", "-inform", "DER", "-in", src, "-recip", party.cert_pem, "-inkey", party.key_pem,
                   "-binary")


def openssl_encrypt(tmp: Path, plaintext: bytes, *recips: Party, options: tuple[str, ...] = (),
                    cipher: str = "-aes-256-gcm") -> bytes:
    src, out = tmp / "plain.bin", tmp / "openssl.p7m"
    src.write_bytes(plaintext)
    args: list[str | Path] = ["cms", "-encrypt", "-binary", cipher, "-in", src, "-outform", "DER", "-out", out]
    for r in recips:
        args += ["-recip", r.cert_pem, *options]
    done = openssl(*args)
    assert done.returncode == 0, done.stderr.decode()
    return out.read_bytes()


# ---------------------------------------------------------------- our seal, both openers

@needs_openssl
@pytest.mark.parametrize("kind", KINDS)
def test_sealed_package_opens_with_openssl_and_open_sealed(tmp_path: Path, parties: dict[str, Party],
                                                           kind: str) -> None:
    party = parties[kind]
    sealed = seal(PLAINTEXT, [party.cert])
    done = openssl_decrypt(tmp_path, sealed, party)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == PLAINTEXT
    assert open_sealed(sealed, party.key, party.cert) == PLAINTEXT
    # The structure is what the issue asks for: AuthEnvelopedData, AES-256-GCM, the right recipient kind.
    info = cms.ContentInfo.load(sealed)
    assert info["content_type"].native == "authenticated_enveloped_data"
    env = info["content"]
    assert env["auth_encrypted_content_info"]["content_encryption_algorithm"]["algorithm"].native == "aes256_gcm"
    ri = env["recipient_infos"][0]
    if kind == "rsa":
        assert ri.name == "ktri"
        params = ri.chosen["key_encryption_algorithm"]["parameters"]
        assert ri.chosen["key_encryption_algorithm"]["algorithm"].native == "rsaes_oaep"
        assert params["hash_algorithm"]["algorithm"].native == "sha256"
        assert params["mask_gen_algorithm"]["parameters"]["algorithm"].native == "sha256"
    else:
        assert ri.name == "kari"
        scheme = ri.chosen["key_encryption_algorithm"]["algorithm"].dotted
        assert scheme == ("1.3.132.1.11.1" if kind == "p256" else "1.3.132.1.11.2")  # stdDH sha256/sha384 kdf
        rid = ri.chosen["recipient_encrypted_keys"][0]["rid"]
        assert rid.name == "issuer_and_serial_number"
        assert rid.chosen["serial_number"].native == party.cert.serial_number
    # Written as DER (the outer headers are assembled by hand around the ciphertext): asn1crypto's
    # own re-encoding of every field gives the same bytes.
    assert cms.ContentInfo.load(sealed).dump(force=True) == sealed
    openssl_view = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", tmp_path / "in.p7m")
    assert b"aes-256-gcm" in openssl_view.stdout


@needs_openssl
@pytest.mark.parametrize("kind", KINDS)
def test_another_key_cannot_open_it_either_way(tmp_path: Path, parties: dict[str, Party], kind: str) -> None:
    party, other = parties[kind], parties[f"other-{kind}"]
    sealed = seal(PLAINTEXT, [party.cert])
    done = openssl_decrypt(tmp_path, sealed, other)
    assert done.returncode != 0 and PLAINTEXT not in done.stdout
    with pytest.raises(NotARecipient, match=r"not sealed to certificate CN=other-.*it is sealed to: CN=partner-"):
        open_sealed(sealed, other.key, other.cert, what="pkg.p7m")
    with pytest.raises(NotARecipient, match="does not belong to"):
        open_sealed(sealed, other.key, party.cert)


@needs_openssl
@pytest.mark.parametrize("kind", KINDS)
def test_a_certificate_forged_with_the_recipients_issuer_and_serial_does_not_open_it(
        tmp_path: Path, parties: dict[str, Party], kind: str) -> None:
    party = parties[kind]
    forged = make_party(tmp_path, "forger", _new_key(kind), serial=party.cert.serial_number,
                        issuer=f"partner-{kind} CA")
    sealed = seal(PLAINTEXT, [party.cert])
    with pytest.raises(SealTampered, match="does not (decrypt|unwrap) with this private key"):
        open_sealed(sealed, forged.key, forged.cert)
    assert openssl_decrypt(tmp_path, sealed, forged).returncode != 0


@needs_openssl
def test_several_recipients_each_open_it(tmp_path: Path, parties: dict[str, Party]) -> None:
    certs = [parties[k].cert for k in KINDS]
    sealed = seal(PLAINTEXT, [*certs, certs[0]])  # a duplicate recipient is listed once
    listed = cms_seal.sealed_recipients(sealed)
    assert [r.serial for r in listed] == [c.serial_number for c in certs]
    assert [r.method for r in listed] == ["RSA key transport", "ECDH key agreement", "ECDH key agreement"]
    assert "partner-rsa CA" in listed[0].describe()
    for kind in KINDS:
        party = parties[kind]
        assert open_sealed(sealed, party.key, party.cert) == PLAINTEXT
        done = openssl_decrypt(tmp_path, sealed, party)
        assert done.returncode == 0 and done.stdout == PLAINTEXT, done.stderr.decode()
    other = parties["other-p256"]
    with pytest.raises(NotARecipient):
        open_sealed(sealed, other.key, other.cert)


# ---------------------------------------------------------------- OpenSSL's seal, our opener

@needs_openssl
@pytest.mark.parametrize(("kind", "options"), [
    ("rsa", ("-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256")),
    ("rsa", ("-keyopt", "rsa_padding_mode:oaep")),  # OAEP with SHA-1 (OpenSSL's OAEP default)
    ("p256", ()),  # OpenSSL's default: dhSinglePass-stdDH-sha1kdf-scheme
    ("p256", ("-keyopt", "ecdh_kdf_md:sha256")),
    ("p384", ("-keyopt", "ecdh_kdf_md:sha384")),
    ("p384", ("-keyopt", "ecdh_cofactor_mode:1", "-keyopt", "ecdh_kdf_md:sha256")),
])
def test_openssl_sealed_data_opens_with_open_sealed(tmp_path: Path, parties: dict[str, Party], kind: str,
                                                    options: tuple[str, ...]) -> None:
    party = parties[kind]
    sealed = openssl_encrypt(tmp_path, PLAINTEXT, party, options=options)
    assert open_sealed(sealed, party.key, party.cert) == PLAINTEXT
    other = parties[f"other-{kind}"]
    with pytest.raises(NotARecipient):
        open_sealed(sealed, other.key, other.cert)


@needs_openssl
def test_openssl_multi_recipient_and_streamed_ber_open(tmp_path: Path, parties: dict[str, Party]) -> None:
    rsa_p, p256, p384 = (parties[k] for k in KINDS)
    src, out = tmp_path / "plain.bin", tmp_path / "stream.p7m"
    src.write_bytes(PLAINTEXT)
    done = openssl("cms", "-encrypt", "-binary", "-aes-256-gcm", "-stream", "-in", src, "-outform", "DER",
                   "-out", out, "-recip", rsa_p.cert_pem, "-keyopt", "rsa_padding_mode:oaep",
                   "-recip", p256.cert_pem, "-recip", p384.cert_pem)
    assert done.returncode == 0, done.stderr.decode()
    sealed = out.read_bytes()
    assert sealed[1] == 0x80  # indefinite length: BER, as OpenSSL streams it
    for party in (rsa_p, p256, p384):
        assert open_sealed(sealed, party.key, party.cert) == PLAINTEXT


@needs_openssl
def test_openssl_rsa_pkcs1v15_default_is_refused_with_the_fix(tmp_path: Path, parties: dict[str, Party]) -> None:
    party = parties["rsa"]
    sealed = openssl_encrypt(tmp_path, PLAINTEXT, party)
    with pytest.raises(UnsupportedSeal, match=r"in\.p7m: .*PKCS#1 v1\.5.*rsa_padding_mode:oaep"):
        open_sealed(sealed, party.key, party.cert, what="in.p7m")


@needs_openssl
@pytest.mark.parametrize(("cipher", "message"), [
    ("-aes-256-cbc", "EnvelopedData without authentication"),
    ("-aes-128-gcm", "aes128_gcm; only AES-256-GCM"),
])
def test_other_content_ciphers_are_refused(tmp_path: Path, parties: dict[str, Party], cipher: str,
                                           message: str) -> None:
    party = parties["p256"]
    sealed = openssl_encrypt(tmp_path, PLAINTEXT, party, cipher=cipher)
    with pytest.raises(UnsupportedSeal, match=message):
        open_sealed(sealed, party.key, party.cert)


# ---------------------------------------------------------------- tampering and hostile input

def _ciphertext_offset(sealed: bytes) -> int:
    env = cms.ContentInfo.load(sealed)["content"]
    eci = env["auth_encrypted_content_info"]["encrypted_content"]
    return sealed.rindex(eci.contents)


@needs_openssl
@pytest.mark.parametrize("where", ["first ciphertext byte", "last ciphertext byte", "tag"])
def test_a_flipped_byte_fails_the_tag_both_ways(tmp_path: Path, parties: dict[str, Party], where: str) -> None:
    party = parties["p256"]
    sealed = bytearray(seal(PLAINTEXT, [party.cert]))
    start = _ciphertext_offset(bytes(sealed))
    index = {"first ciphertext byte": start, "last ciphertext byte": start + len(PLAINTEXT) - 1,
             "tag": len(sealed) - 1}[where]
    sealed[index] ^= 0x01
    with pytest.raises(SealTampered, match="authentication tag does not match"):
        open_sealed(bytes(sealed), party.key, party.cert)
    done = openssl_decrypt(tmp_path, bytes(sealed), party)
    assert done.returncode != 0


def test_a_flipped_wrapped_key_byte_is_refused(parties: dict[str, Party]) -> None:
    for kind in KINDS:
        party = parties[kind]
        sealed = seal(PLAINTEXT, [party.cert])
        env = cms.ContentInfo.load(sealed)["content"]
        ri = env["recipient_infos"][0].chosen
        wrapped = (ri["encrypted_key"] if kind == "rsa" else ri["recipient_encrypted_keys"][0]["encrypted_key"]).native
        at = sealed.index(wrapped) + 5
        damaged = sealed[:at] + bytes([sealed[at] ^ 0x40]) + sealed[at + 1:]
        with pytest.raises(SealTampered, match="content key does not"):
            open_sealed(damaged, party.key, party.cert)


def test_hostile_inputs_fail_cleanly(parties: dict[str, Party], monkeypatch: pytest.MonkeyPatch) -> None:
    party = parties["rsa"]
    sealed = seal(PLAINTEXT, [party.cert])
    cases = {
        "empty": b"",
        "garbage": b"not a CMS message at all",
        "truncated": sealed[: len(sealed) // 2],
        "one byte short": sealed[:-1],
        "trailing data": sealed + b"\x00",
        "a signature, not a sealed file": cms.ContentInfo({"content_type": "data", "content": b"x"}).dump(),
    }
    for name, data in cases.items():
        with pytest.raises(SealError, match=r"^bad\.p7m: ") as caught:
            open_sealed(data, party.key, party.cert, what="bad.p7m")
        assert isinstance(caught.value, FrontierError), name
    monkeypatch.setattr(cms_seal, "MAX_SEALED", 1000)
    monkeypatch.setattr(cms_seal, "ENVELOPE_SLACK", 0)
    with pytest.raises(SealError, match="larger than any sealed package"):
        open_sealed(sealed, party.key, party.cert)
    with pytest.raises(SealError, match="at most 1,000 bytes can be sealed"):
        seal(PLAINTEXT, [party.cert])


def test_a_damaged_recipient_name_is_refused_cleanly(parties: dict[str, Party]) -> None:
    """Found by the property below: when no entry is for the key, the refusal names the recipients,
    which parses their issuer Names; a Name given a wrong tag raised asn1crypto's ValueError."""
    sealed = seal(PLAINTEXT[:300], [parties["p256"].cert, parties["rsa"].cert])
    at = sealed.index(parties["rsa"].cert.issuer.public_bytes())  # the ktri entry's issuer: SEQUENCE (0x30)
    damaged = sealed[:at] + b"\x00" + sealed[at + 1:]
    other = parties["other-p256"]  # for whom no entry is: the refusal names the recipients
    with pytest.raises(SealError, match=r"^bad\.p7m: a recipient entry is damaged"):
        open_sealed(damaged, other.key, other.cert, what="bad.p7m")
    assert open_sealed(damaged, parties["p256"].key, parties["p256"].cert) == PLAINTEXT[:300]

@pytest.fixture(scope="module")
def sealed_to_p256_and_rsa(parties: dict[str, Party]) -> bytes:
    """Sealed once per module. (The examples below used to call seal() each time, as the argument of
    dict.setdefault, and then mutate the first result anyway: 150 seals thrown away.)"""
    return seal(PLAINTEXT[:300], [parties["p256"].cert, parties["rsa"].cert])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutation_opens_to_the_original_or_fails_cleanly(parties: dict[str, Party], sealed_to_p256_and_rsa: bytes,
                                                             data: st.DataObject) -> None:
    party = parties["p256"]
    sealed = sealed_to_p256_and_rsa
    mutated = bytearray(sealed)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    try:
        out = open_sealed(bytes(mutated[:cut] if data.draw(st.booleans()) else mutated), party.key, party.cert)
    except SealError:
        return
    assert out == PLAINTEXT[:300]


# ---------------------------------------------------------------- recipient certificates refused at sealing

def test_unusable_recipient_certificates_are_refused(tmp_path: Path) -> None:
    expired = make_party(tmp_path, "expired", ec.generate_private_key(ec.SECP256R1()), days=-1)
    with pytest.raises(SealError, match=r"CN=expired .*expired on"):
        seal(b"x", [expired.cert])
    sign_only = make_party(tmp_path, "signonly", ec.generate_private_key(ec.SECP256R1()), usage="sign")
    with pytest.raises(SealError, match="does not allow keyAgreement"):
        seal(b"x", [sign_only.cert])
    sign_only_rsa = make_party(tmp_path, "signonly-rsa", rsa.generate_private_key(65537, 2048), usage="sign")
    with pytest.raises(SealError, match="does not allow keyEncipherment"):
        seal(b"x", [sign_only_rsa.cert])
    p521 = make_party(tmp_path, "p521", ec.generate_private_key(ec.SECP521R1()))
    with pytest.raises(UnsupportedSeal, match="secp521r1; only P-256 and P-384"):
        seal(b"x", [p521.cert])
    small = make_party(tmp_path, "small", rsa.generate_private_key(65537, 1024))
    with pytest.raises(UnsupportedSeal, match="1024-bit RSA key"):
        seal(b"x", [small.cert])
    edkey = ed25519.Ed25519PrivateKey.generate()
    ca = make_party(tmp_path, "edca", ec.generate_private_key(ec.SECP256R1()))
    ed_cert = (x509.CertificateBuilder().subject_name(ca.cert.subject).issuer_name(ca.cert.subject)
               .public_key(edkey.public_key()).serial_number(7)
               .not_valid_before(datetime.now(UTC) - timedelta(days=1))
               .not_valid_after(datetime.now(UTC) + timedelta(days=1)).sign(ca.key, hashes.SHA256()))
    with pytest.raises(UnsupportedSeal, match="only RSA and EC"):
        seal(b"x", [ed_cert])
    with pytest.raises(SealError, match="at least one"):
        seal(b"x", [])
    no_usage = make_party(tmp_path, "nousage", ec.generate_private_key(ec.SECP256R1()), usage=None)
    assert open_sealed(seal(b"x", [no_usage.cert]), no_usage.key, no_usage.cert) == b"x"


def test_authenticated_attributes_are_checked_as_associated_data(parties: dict[str, Party]) -> None:
    """RFC 5083: authAttrs are authenticated (DER with the SET OF tag) though not encrypted."""
    import os

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    party = parties["rsa"]
    cek, nonce = os.urandom(32), os.urandom(12)
    # asn1crypto builds a class's name -> OID map once, when the first attribute type object exists;
    # pyHanko adds its attribute types to the OID -> name map when imported. Import it first, so this
    # test's attributes do not freeze the map without them (signing later in the process would fail).
    import pyhanko.sign.signers  # noqa: F401
    def content_type_attr(oid_last: int) -> cms.CMSAttributes:  # SET { SEQ { contentType, SET { 1.2.840.113549.1.7.n } } }
        value = bytes.fromhex("06092a864886f70d0107") + bytes([oid_last])
        seq = bytes.fromhex("06092a864886f70d010903") + b"\x31" + bytes([len(value)]) + value
        return cms.CMSAttributes.load(b"\x31" + bytes([len(seq) + 2]) + b"\x30" + bytes([len(seq)]) + seq)

    attrs = content_type_attr(1)  # id-data
    encryptor = Cipher(algorithms.AES(cek), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(attrs.dump())
    ciphertext = encryptor.update(PLAINTEXT)
    encryptor.finalize()

    def message(auth_attrs: cms.CMSAttributes) -> bytes:
        env = cms.AuthEnvelopedData({
            "version": "v0", "recipient_infos": [cms_seal._ktri(party.cert, cek)],
            "auth_encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": "aes256_gcm", "parameters": cms_seal.GCMParameters(
                    {"aes_nonce": nonce, "aes_icvlen": 16})},
                "encrypted_content": ciphertext},
            "auth_attrs": auth_attrs, "mac": encryptor.tag})
        return bytes(cms.ContentInfo({"content_type": "authenticated_enveloped_data", "content": env}).dump())

    assert open_sealed(message(attrs), party.key, party.cert) == PLAINTEXT
    assert attrs[0]["type"].dotted == "1.2.840.113549.1.9.3"
    changed = content_type_attr(2)  # id-signedData
    with pytest.raises(SealTampered, match="authentication tag does not match"):
        open_sealed(message(changed), party.key, party.cert)
