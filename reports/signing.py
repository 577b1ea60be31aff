"""PAdES baseline B-B signatures with pyHanko (ECDSA P-256, SHA-256).

The reviewer signs as a certification signature (DocMDP P=2: only form filling and signing may
follow) and, in the same revision, reserves the lead's empty signature field; the lead
countersigns by filling that field as an incremental update, so the first signature stays valid
and anything else added later shows up as a change (reports/verify.py). There is no
time-stamping authority on an air gap: the signing time is the signing machine's local clock and
the visible stamp says so. A PKCS#11 token (smart card) can sign instead of a software key.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from app.model.errors import AuthError, IntegrityError, ValidationError
from app.model.verification import LEAD_FIELD, REVIEWER_FIELD
from reports import pki
from reports.detached import run_sync


@dataclass(frozen=True)
class SignatureRequest:
    field_name: str
    role: str  # shown in the stamp and as the signature's reason
    page: int  # 1-based page of the signature box
    box: tuple[float, float, float, float] | None  # None: an invisible signature
    location: str = ""
    certify: bool = False  # a certification signature permitting only form filling and signing (P=2)
    # Empty signature fields created in the same revision, before signing: (name, 1-based page, box).
    reserve: tuple[tuple[str, int, tuple[float, float, float, float] | None], ...] = ()


Box = tuple[float, float, float, float]


def reviewer_request(page: int, boxes: Mapping[str, Box], location: str = "") -> SignatureRequest:
    """The reviewer certifies the report (only the countersignature may follow) and reserves the
    lead's field in the same revision."""
    return SignatureRequest(REVIEWER_FIELD, "Reviewer", page, _opt(boxes.get(REVIEWER_FIELD)), location,
                            certify=True, reserve=((LEAD_FIELD, page, _opt(boxes.get(LEAD_FIELD))),))


def lead_request(page: int, boxes: Mapping[str, Box], location: str = "") -> SignatureRequest:
    """The lead countersigns by filling the field the reviewer reserved."""
    return SignatureRequest(LEAD_FIELD, "Lead reviewer", page, _opt(boxes.get(LEAD_FIELD)), location)


def _opt(box: Sequence[float] | None) -> Box | None:
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3])) if box else None


def software_signer(key: pki.PrivateKey, cert: x509.Certificate, chain: Sequence[x509.Certificate] = ()) -> Any:
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return signers.SimpleSigner(
        signing_cert=pki.to_asn1_cert(cert),
        signing_key=pki.to_asn1_key(key),
        cert_registry=SimpleCertificateStore.from_certs([pki.to_asn1_cert(c) for c in chain]),
    )


def _stamp_pdf(width: float, height: float, lines: Sequence[str]) -> bytes:
    """The visible signature as a one-page PDF drawn with the embedded report font."""
    from reportlab.pdfgen.canvas import Canvas

    from reports.pdf_markings import FONT, FONT_BOLD, register_fonts

    register_fonts()
    out = io.BytesIO()
    c = Canvas(out, pagesize=(width, height), invariant=1, initialFontName=FONT)
    size = 8.0
    y = height - 6 - size
    for n, line in enumerate(lines):
        c.setFont(FONT_BOLD if n == 0 else FONT, size)
        c.drawString(6, y, line)
        y -= size * 1.35
    c.showPage()
    c.save()
    return out.getvalue()


AWAITING_TEXT = ("Not yet countersigned", "Awaiting the lead reviewer's", "countersignature")


def _awaiting_appearance(writer: Any, name: str, rect: Box) -> None:
    """The reserved, still empty lead field shows that it awaits the countersignature. Signing the
    field replaces this appearance with the lead's stamp, so the printed (and extracted) text of
    the signature page always matches the signatures present."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    x1, y1, x2, y2 = _box(rect) or (0, 0, 0, 0)
    data = _stamp_pdf(float(x2 - x1), float(y2 - y1), AWAITING_TEXT)
    xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(data)), page_ix=0)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == name:
            field["/AP"] = generic.DictionaryObject({generic.NameObject("/N"): xobj})
            return


def _stamp_style() -> Any:
    """A stamp drawn with DejaVu Sans (embedded), from the same signing time pyHanko records.

    pyHanko's own text stamps embed fonts only with its optional HarfBuzz support; instead the
    text is laid out by reportlab into a small PDF page that becomes the stamp's background.
    """
    from pyhanko.pdf_utils import content, layout
    from pyhanko.pdf_utils.layout import BoxConstraints
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.stamp import StaticStampStyle, TextStampStyle
    from pyhanko.stamp.static import StaticContentStamp

    class PdfPageBytes(content.PdfContent):
        def __init__(self, data: bytes) -> None:
            super().__init__()
            self.data = data

        def render(self) -> bytes:
            writer = self._ensure_writer
            xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self.data)), page_ix=0)
            self.resources.xobject["/FRWStamp"] = xobj
            x1, y1, x2, y2 = xobj.get_object()["/BBox"]
            self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
            return b"/FRWStamp Do"

    class EmbeddedFontStampStyle(TextStampStyle):
        def create_stamp(self, writer: Any, box: Any, text_params: dict[str, Any]) -> Any:
            lines = [f"Signed by {text_params.get('signer', '')}", f"Role: {text_params.get('role', '')}",
                     f"{text_params.get('ts', '')}", "(signer's local clock)"]
            data = _stamp_pdf(float(box.width), float(box.height), lines)
            # The page is drawn at the box's exact size: no margins, no scaling.
            fit = layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MIN,
                                             y_align=layout.AxisAlignment.ALIGN_MIN, margins=layout.Margins(),
                                             inner_content_scaling=layout.InnerScaling.NO_SCALING)
            style = StaticStampStyle(border_width=1, background=PdfPageBytes(data), background_opacity=1.0,
                                     background_layout=fit)
            return StaticContentStamp(writer=writer, style=style, box=box)

    return EmbeddedFontStampStyle(timestamp_format="%Y-%m-%d %H:%M:%S %z", border_width=1)


def existing_fields(pdf: bytes) -> dict[str, bool]:
    """Signature field names in `pdf` -> whether each is signed."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}


def _box(rect: tuple[float, float, float, float] | None) -> tuple[int, int, int, int] | None:
    if rect is None:
        return None
    x1, y1, x2, y2 = (round(v) for v in rect)
    return x1, y1, x2, y2


def sign_pdf(pdf: bytes, signer: Any, request: SignatureRequest) -> bytes:
    """Append a PAdES B-B signature in a new field as an incremental update; return the new bytes."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    fields_now = existing_fields(pdf)
    if fields_now.get(request.field_name):
        raise ValidationError(request.field_name, "this report already carries that signature")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except Exception as exc:
        raise IntegrityError(f"the report PDF cannot be read for signing ({exc})") from None
    meta = signers.PdfSignatureMetadata(
        field_name=request.field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"{request.role} signature",
        location=request.location or None,
        certify=request.certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    for name, page, rect in request.reserve:
        if name not in fields_now:
            fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=page - 1, box=_box(rect)))
            if rect is not None:
                _awaiting_appearance(writer, name, rect)
    spec = None
    if request.field_name not in fields_now:
        spec = fields.SigFieldSpec(request.field_name, on_page=request.page - 1, box=_box(request.box))
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=_stamp_style(), new_field_spec=spec)
    out = io.BytesIO()
    try:
        run_sync(pdf_signer.async_sign_pdf(writer, output=out,
                                           appearance_text_params={"role": request.role}))
    except SigningError as exc:
        raise IntegrityError(f"signing failed: {exc}") from None
    except Exception as exc:  # PKCS#11 errors surface here (wrong PIN, token removed)
        if "PIN" in type(exc).__name__ or "Pin" in type(exc).__name__:
            raise AuthError("The token rejected the PIN.") from None
        raise
    return out.getvalue()


# -- PKCS#11 tokens ----------------------------------------------------------------------------


@contextlib.contextmanager
def token_session(module: str, token_label: str, pin: str) -> Iterator[Any]:
    """Open a logged-in session on the token; always closed afterwards."""
    from pkcs11 import exceptions as p11_errors
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import open_pkcs11_session

    try:
        session = open_pkcs11_session(module, token_criteria=TokenCriteria(label=token_label), user_pin=pin)
    except (p11_errors.PinIncorrect, p11_errors.PinLenRange, p11_errors.PinInvalid):
        raise AuthError(f"Token '{token_label}' rejected the PIN.") from None
    except p11_errors.PinLocked:
        raise AuthError(f"Token '{token_label}' is locked after wrong PINs; ask the security officer.") from None
    except Exception as exc:
        raise ValidationError("token", f"cannot open token '{token_label}' with {module}: {exc}") from None
    try:
        yield session
    finally:
        with contextlib.suppress(Exception):
            session.close()


def token_certificate(module: str, token_label: str, key_label: str, pin: str
                      ) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """Read the signing certificate stored on the token under `key_label`."""
    from pkcs11 import Attribute, ObjectClass

    with token_session(module, token_label, pin) as session:
        found = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: key_label}))
        if not found:
            raise ValidationError("token", f"no certificate labelled '{key_label}' on token '{token_label}'")
        cert = x509.load_der_x509_certificate(bytes(found[0][Attribute.VALUE]))
        pki.check_key_strength(cert.public_key(), f"certificate on token '{token_label}'")
        # Smart cards usually carry their issuing CA certificates too: the chain the signature embeds.
        others = []
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            with contextlib.suppress(ValueError, KeyError):
                other = x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
                if other != cert and pki.is_ca(other):
                    others.append(other)
        return cert, tuple(pki.issuer_path(cert, others))


@contextlib.contextmanager
def token_signer(module: str, token_label: str, key_label: str, pin: str, cert: x509.Certificate,
                 chain: Sequence[x509.Certificate] = ()) -> Iterator[Any]:
    """A pyHanko PKCS#11 signer: the private key never leaves the token."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyhanko.sign.pkcs11 import PKCS11Signer

    # Smart cards (and SoftHSM) usually offer only raw CKM_ECDSA: hash here, sign the digest on the card.
    raw = isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    with token_session(module, token_label, pin) as session:
        yield PKCS11Signer(session, key_label=key_label, signing_cert=pki.to_asn1_cert(cert),
                           ca_chain=[pki.to_asn1_cert(c) for c in chain], embed_roots=True, use_raw_mechanism=raw)
