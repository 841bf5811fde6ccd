"""The 处方笺 as a PDF file: one A5 page (layout.py), its attachments, its QR code, and the hospital's PAdES seal.

The unsigned file is built with pyHanko's writer: the page in STSong-Light, the QR code as an 8-bit grey image
(one sample per module, so a verifier compares it with the matrix regenerated from its text, kept beside it in
the image dictionary as /HospitalQRText), and the attachments (the doctor's JWS, the pharmacist's JWS, the whole
export bundle). The hospital seal then signs it as PAdES (ETSI.CAdES.detached) with an RFC 3161 signature
time-stamp from the hospital's TSA (PAdES B-T), so a standard PDF reader shows it as signed and unaltered, and
every attachment is covered by the seal.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit

import qrcode
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from hospital.prescriptions.printing.layout import PAGE_HEIGHT, PAGE_WIDTH, PrintedPrescription, page_content
from hospital.signing.seal import HospitalSeal
from hospital.signing.timestamps import TIMESTAMP_QUERY, TIMESTAMP_REPLY, TimestampInvalid

__all__ = ["SEAL_FIELD", "Attachment", "CallbackTimeStamper", "attachments_of", "qr_image_of", "qr_matrix",
           "qr_text", "seal_pdf", "unsigned_pdf", "url_tsa"]

SEAL_FIELD = "HospitalSeal"
QR_IMAGE = "QR"
STSONG = "/STSong-Light"


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    data: bytes
    mime_type: str
    description: str


def qr_text(*, number: str, payload_sha256: str, export_url: str, verify_url: str) -> str:
    """What the QR code says: the prescription number, the SHA-256 of the signed payload, where a pharmacy
    fetches the export and where it verifies it (lines of key=value, readable by any scanner)."""
    return (f"hospital-rx/1\nnumber={number}\nsha256={payload_sha256}\nexport={export_url}\nverify={verify_url}")


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), with its 4-module quiet zone; deterministic for a given text."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _font() -> generic.DictionaryObject:
    descriptor = generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/FontDescriptor"),
        generic.pdf_name("/FontName"): generic.pdf_name(STSONG),
        generic.pdf_name("/Flags"): generic.NumberObject(6),
        generic.pdf_name("/FontBBox"): generic.ArrayObject(generic.NumberObject(v) for v in (-25, -254, 1000, 880)),
        generic.pdf_name("/ItalicAngle"): generic.NumberObject(0),
        generic.pdf_name("/Ascent"): generic.NumberObject(880),
        generic.pdf_name("/Descent"): generic.NumberObject(-120),
        generic.pdf_name("/CapHeight"): generic.NumberObject(880),
        generic.pdf_name("/StemV"): generic.NumberObject(93),
    })
    cid_font = generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Font"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/CIDFontType0"),
        generic.pdf_name("/BaseFont"): generic.pdf_name(STSONG),
        generic.pdf_name("/CIDSystemInfo"): generic.DictionaryObject({
            generic.pdf_name("/Registry"): generic.pdf_string("Adobe"),
            generic.pdf_name("/Ordering"): generic.pdf_string("GB1"),
            generic.pdf_name("/Supplement"): generic.NumberObject(2),
        }),
        generic.pdf_name("/FontDescriptor"): descriptor,
        generic.pdf_name("/DW"): generic.NumberObject(1000),
        # CIDs 1..95 are the proportional ASCII glyphs UniGB-UCS2-H maps 0x20..0x7E to: half an em
        generic.pdf_name("/W"): generic.ArrayObject([generic.NumberObject(1), generic.NumberObject(95),
                                                     generic.NumberObject(500)]),
    })
    return generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Font"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Type0"),
        generic.pdf_name("/BaseFont"): generic.pdf_name(STSONG),
        generic.pdf_name("/Encoding"): generic.pdf_name("/UniGB-UCS2-H"),
        generic.pdf_name("/DescendantFonts"): generic.ArrayObject([cid_font]),
    })


def _qr_image(text: str) -> generic.StreamObject:
    matrix = qr_matrix(text)
    image = generic.StreamObject({
        generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Image"),
        generic.pdf_name("/Width"): generic.NumberObject(len(matrix)),
        generic.pdf_name("/Height"): generic.NumberObject(len(matrix)),
        generic.pdf_name("/ColorSpace"): generic.pdf_name("/DeviceGray"),
        generic.pdf_name("/BitsPerComponent"): generic.NumberObject(8),
        generic.pdf_name("/Interpolate"): generic.BooleanObject(False),
        generic.pdf_name("/HospitalQRText"): generic.pdf_string(text),
    }, stream_data=bytes(0 if dark else 255 for row in matrix for dark in row))
    image.compress()
    return image


def unsigned_pdf(printed: PrintedPrescription, *, qr: str, attachments: list[Attachment]) -> bytes:
    """The 处方笺 before the seal: the page, the QR image and the attachments."""
    writer = PdfFileWriter(stream_xrefs=False)
    resources = generic.DictionaryObject({
        generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/F1"): writer.add_object(_font())}),
        generic.pdf_name("/XObject"): generic.DictionaryObject(
            {generic.pdf_name(f"/{QR_IMAGE}"): writer.add_object(_qr_image(qr))}),
    })
    contents = generic.StreamObject(stream_data=page_content(printed, qr_name=QR_IMAGE))
    contents.compress()
    writer.insert_page(PageObject(writer.add_object(contents), (0, 0, PAGE_WIDTH, PAGE_HEIGHT), resources))
    writer.set_info(generic.DictionaryObject({
        generic.pdf_name("/Title"): generic.pdf_string(f"处方笺 {printed.number}"),
        generic.pdf_name("/Author"): generic.pdf_string(printed.hospital),
    }))
    for attachment in attachments:
        embed_file(writer, FileSpec(
            file_spec_string=attachment.name, file_name=attachment.name, description=attachment.description,
            embedded_data=EmbeddedFileObject.from_file_data(writer, attachment.data, mime_type=attachment.mime_type)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


class CallbackTimeStamper(TimeStamper):
    """pyHanko's RFC 3161 client, answered by a function from a DER TimeStampReq to a DER TimeStampResp: the
    hospital's own TSA in process, or `url_tsa` for the TSA at HOSPITAL_TSA_URL."""

    def __init__(self, respond: Callable[[bytes], bytes]) -> None:
        super().__init__()
        self._respond = respond

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp.load(await asyncio.to_thread(self._respond, req.dump()))


def url_tsa(url: str, timeout: float = 10.0) -> Callable[[bytes], bytes]:
    """RFC 3161 3.4: POST the request as application/timestamp-query to the TSA's URL."""

    if urlsplit(url).scheme not in ("http", "https"):  # RFC 3161 3.4 over HTTP; never file: or custom schemes
        raise TimestampInvalid(f"the TSA URL {url!r} is not http or https (HOSPITAL_TSA_URL)")

    def respond(request: bytes) -> bytes:
        call = urllib.request.Request(url, data=request, method="POST",
                                      headers={"Content-Type": TIMESTAMP_QUERY, "Accept": TIMESTAMP_REPLY})
        with urllib.request.urlopen(call, timeout=timeout) as answer:  # nosec B310: scheme checked above
            body: bytes = answer.read(1_000_000)
        return body

    return respond


async def seal_pdf(unsigned: bytes, seal: HospitalSeal, timestamper: TimeStamper | None) -> bytes:
    """The hospital's PAdES seal over the whole file (incremental update), time-stamped when a TSA is given."""
    certificate = asn1_x509.Certificate.load(seal.certificate.public_bytes(Encoding.DER))
    ca_certificate = asn1_x509.Certificate.load(seal.ca_certificate.public_bytes(Encoding.DER))
    key = keys.PrivateKeyInfo.load(seal.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=certificate, signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs([ca_certificate]))
    meta = signers.PdfSignatureMetadata(field_name=SEAL_FIELD, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES,
                                        reason="处方笺电子签章 (Prescription sealed by the hospital)",
                                        name=certificate.subject.native.get("common_name"))
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)
    out = await pdf_signer.async_sign_pdf(IncrementalPdfFileWriter(BytesIO(unsigned)), output=BytesIO())
    return bytes(out.getvalue())


def attachments_of(reader: PdfFileReader) -> dict[str, bytes]:
    """Every embedded file of the document, by name."""
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    found: dict[str, bytes] = {}
    for index in range(0, len(names), 2):
        spec = names[index + 1].get_object()
        found[str(names[index])] = spec["/EF"]["/F"].get_object().data
    return found


def qr_image_of(reader: PdfFileReader) -> tuple[str, list[list[bool]]]:
    """The QR code image of the first page: the text kept beside it, and its modules as drawn (dark < 128)."""
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    image = page["/Resources"]["/XObject"][f"/{QR_IMAGE}"].get_object()
    width = int(image["/Width"])
    data = image.data
    modules = [[data[row * width + column] < 128 for column in range(width)] for row in range(int(image["/Height"]))]
    return str(image["/HospitalQRText"]), modules

