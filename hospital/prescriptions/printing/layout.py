"""The 处方笺 as drawn on the page: 处方管理办法 第五条 and its 附件 (处方标准), pure (no database, no PDF objects).

处方标准 asks for three parts: 前记 (医疗机构名称, 费别, 患者姓名, 性别, 年龄, 门诊病历号, 科别, 临床诊断, 开具日期),
正文 (Rp, each drug with 名称, 规格, 数量 and 用法用量) and 后记 (医师签名, 药品金额, 审核/调配/核对/发药药师签名).
The paper's colour says its kind: 普通 white, 急诊 pale yellow, 儿科 pale green, 麻醉药品和第一类精神药品 pale red,
第二类精神药品 white; every kind but 普通 is labelled in the top right corner.

Text is set in STSong-Light, the PDF standard simplified-Chinese font (Adobe-GB1, UniGB-UCS2-H): every reader
with CJK support has it or a substitute, and nothing is embedded (the machine has no font subsetter, and a whole
CJK font would weigh megabytes per prescription). Its widths are 1 em for Chinese and ½ em for ASCII.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PAGE_HEIGHT", "PAGE_WIDTH", "PaperKind", "PrintedItem", "PrintedPrescription", "page_content",
           "paper_kind", "text_width"]

PAGE_WIDTH, PAGE_HEIGHT = 420.0, 595.0  # A5 portrait, in points: the usual 处方笺 size
MARGIN = 28.0
QR_SIZE = 84.0
CHILD_UNDER_YEARS = 14  # 儿科处方: patients under 14 (the paediatric age limit of Chinese hospitals)


class PaperKind(enum.StrEnum):
    """The kind of 处方笺, with its paper colour (RGB, 0..1) and corner label (处方标准 一(二))."""

    ORDINARY = "ordinary"
    EMERGENCY = "emergency"
    PAEDIATRIC = "paediatric"
    NARCOTIC = "narcotic_psychotropic_1"
    PSYCHOTROPIC_2 = "psychotropic_2"

    @property
    def colour(self) -> tuple[float, float, float]:
        return _COLOURS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_COLOURS = {
    PaperKind.ORDINARY: (1.0, 1.0, 1.0),
    PaperKind.EMERGENCY: (1.0, 0.98, 0.80),  # 淡黄色
    PaperKind.PAEDIATRIC: (0.88, 0.97, 0.88),  # 淡绿色
    PaperKind.NARCOTIC: (1.0, 0.89, 0.89),  # 淡红色
    PaperKind.PSYCHOTROPIC_2: (1.0, 1.0, 1.0),  # 白色, labelled 精二
}
_LABELS = {PaperKind.ORDINARY: "普通", PaperKind.EMERGENCY: "急诊", PaperKind.PAEDIATRIC: "儿科",
           PaperKind.NARCOTIC: "麻、精一", PaperKind.PSYCHOTROPIC_2: "精二"}


def paper_kind(controlled_classes: Sequence[str], *, patient_age_years: int | None, emergency: bool = False
               ) -> PaperKind:
    """The paper a prescription is printed on: the drug class decides first (麻/精一, then 精二), then 急诊, then
    儿科 for a child; else 普通."""
    if {"narcotic", "psychotropic_1"} & set(controlled_classes):
        return PaperKind.NARCOTIC
    if "psychotropic_2" in controlled_classes:
        return PaperKind.PSYCHOTROPIC_2
    if emergency:
        return PaperKind.EMERGENCY
    if patient_age_years is not None and patient_age_years < CHILD_UNDER_YEARS:
        return PaperKind.PAEDIATRIC
    return PaperKind.ORDINARY


@dataclass(frozen=True, slots=True)
class PrintedItem:
    """One Rp line: what is dispensed, then how it is taken."""

    name: str
    strength: str
    quantity: str
    usage: str  # 用法用量
    amount_cny: str


@dataclass(frozen=True, slots=True)
class PrintedPrescription:
    """Everything the page shows, already in words."""

    hospital: str
    number: str
    kind: PaperKind
    fee_category: str  # 费别
    patient_name: str
    sex: str
    age: str
    record_number: str  # 门诊病历号
    department: str  # 科别
    diagnoses: tuple[str, ...]
    issued_on: str
    valid_until: str
    items: tuple[PrintedItem, ...]
    total_cny: str
    doctor: str
    pharmacist: str
    reviewed_on: str
    payload_sha256: str


def text_width(text: str, size: float) -> float:
    """The width of `text` in STSong-Light at `size` points: ½ em for ASCII, 1 em for everything else."""
    return sum(0.5 if ord(ch) < 0x80 else 1.0 for ch in text) * size


def _hex(text: str) -> str:
    """UTF-16BE hex for UniGB-UCS2-H; characters outside the BMP cannot be shown in UCS-2 and print as '?'."""
    return "".join(f"{ord(ch) if ord(ch) <= 0xFFFF else 0x3F:04X}" for ch in text)


class _Page:
    """A content stream under construction, y measured from the top of the page."""

    def __init__(self) -> None:
        self.ops: list[str] = []

    def text(self, x: float, top: float, text: str, size: float = 9.0) -> None:
        self.ops.append(f"BT /F1 {size:g} Tf {x:.2f} {PAGE_HEIGHT - top:.2f} Td <{_hex(text)}> Tj ET")

    def centred(self, top: float, text: str, size: float) -> None:
        self.text((PAGE_WIDTH - text_width(text, size)) / 2, top, text, size)

    def right(self, right: float, top: float, text: str, size: float = 9.0) -> None:
        self.text(right - text_width(text, size), top, text, size)

    def line(self, top: float, width: float = 0.8) -> None:
        y = PAGE_HEIGHT - top
        self.ops.append(f"{width:g} w {MARGIN:.2f} {y:.2f} m {PAGE_WIDTH - MARGIN:.2f} {y:.2f} l S")

    def wrapped(self, x: float, top: float, text: str, size: float, right: float) -> float:
        """Draw `text` from x, wrapping at `right`; returns the top of the next line."""
        line = ""
        for ch in text:
            if text_width(line + ch, size) > right - x:
                self.text(x, top, line, size)
                top, line = top + size * 1.45, ""
            line += ch
        if line:
            self.text(x, top, line, size)
        return top + size * 1.45


def page_content(rx: PrintedPrescription, *, qr_name: str = "QR") -> bytes:
    """The page's content stream: paper, 前记, Rp, 后记, and the QR code image `qr_name` in the bottom right."""
    page = _Page()
    red, green, blue = rx.kind.colour
    page.ops.append(f"q {red:g} {green:g} {blue:g} rg 0 0 {PAGE_WIDTH:g} {PAGE_HEIGHT:g} re f Q 0 g 0 G")
    if rx.kind is not PaperKind.ORDINARY:
        label_width = text_width(rx.kind.label, 11) + 10
        x, y = PAGE_WIDTH - MARGIN - label_width, PAGE_HEIGHT - 40
        page.ops.append(f"1 w {x:.2f} {y:.2f} {label_width:.2f} 18 re S")
        page.text(x + 5, 35, rx.kind.label, 11)
    page.centred(44, rx.hospital, 15)
    page.centred(66, "处 方 笺", 17)
    right = PAGE_WIDTH - MARGIN
    page.text(MARGIN, 90, f"费别：{rx.fee_category}")
    page.right(right, 90, f"处方编号：{rx.number}")
    page.line(97)
    page.text(MARGIN, 112, f"姓名：{rx.patient_name}")
    page.text(MARGIN + 150, 112, f"性别：{rx.sex}")
    page.text(MARGIN + 240, 112, f"年龄：{rx.age}")
    page.text(MARGIN, 128, f"门诊病历号：{rx.record_number}")
    page.text(MARGIN + 240, 128, f"科别：{rx.department}")
    top = page.wrapped(MARGIN, 144, "临床诊断：" + "；".join(rx.diagnoses), 9, right)
    page.text(MARGIN, top, f"开具日期：{rx.issued_on}")
    page.right(right, top, f"有效期至：{rx.valid_until}")
    page.line(top + 7)
    top += 30
    page.text(MARGIN, top, "Rp", 16)
    top += 20
    for index, item in enumerate(rx.items, start=1):
        page.text(MARGIN + 10, top, f"{index}. {item.name}  {item.strength}", 10)
        page.right(right, top, f"× {item.quantity}", 10)
        top = page.wrapped(MARGIN + 24, top + 15, f"用法用量：{item.usage}", 9, right)
        top += 6
    page.text(MARGIN + 10, top, "（以下空白）", 8)
    footer = PAGE_HEIGHT - 150
    page.line(footer)
    page.text(MARGIN, footer + 16, f"医师签名：{rx.doctor}（电子签名）")
    page.text(MARGIN, footer + 32, f"审核药师：{rx.pharmacist}（电子签名，{rx.reviewed_on}）")
    page.text(MARGIN, footer + 48, f"药品金额：￥{rx.total_cny}")
    page.text(MARGIN, footer + 64, "调配药师：__________  核对、发药药师：__________", 8)
    page.text(MARGIN, footer + 84, "本处方由医院电子处方专用章签章，内附医师与药师的电子签名；", 7)
    page.text(MARGIN, footer + 95, "扫描右侧二维码取得处方导出文件并核验（POST /api/rx/verify）。", 7)
    page.text(MARGIN, footer + 110, "签名数据 SHA-256：", 7)
    page.text(MARGIN, footer + 120, rx.payload_sha256[:32], 7)
    page.text(MARGIN, footer + 129, rx.payload_sha256[32:], 7)
    qr_x, qr_y = right - QR_SIZE, 22.0
    page.ops.append(f"q {QR_SIZE:g} 0 0 {QR_SIZE:g} {qr_x:.2f} {qr_y:.2f} cm /{qr_name} Do Q")
    return "\n".join(page.ops).encode("ascii")
