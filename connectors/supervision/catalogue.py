"""Filing the drug catalogue (uploadDrugCatalogue): the formulary as the platform's catalogue, filed first
and again whenever the formulary or the stocked products change (SUP-02).

The formulary (hospital/prescriptions/formulary/data) names products by generic name and strength; what the platform
also asks for, the manufacturer and its drug class code, is the hospital's procurement data in
`data/drug_products.csv` (a `*` row is the default). Controlled drugs are filed with useFlag 0: the hospital
must recognise them but never prescribes them online (RX-02).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from pathlib import Path

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.contracts.prescriptions import CatalogueDrug, FormularyCatalogue
from hospital.core.outbox import OutboxEvent, emit
from hospital.prescriptions.formulary.tables import load_formulary
from hospital.prescriptions.formulary.values import Formulary

__all__ = ["CATALOGUE_EVENT", "catalogue_payload", "drug_products", "file_catalogue"]

CATALOGUE_EVENT = "formulary.catalogue"
PRODUCTS = Path(__file__).parent / "data" / "drug_products.csv"


@functools.cache
def drug_products() -> dict[str, dict[str, str]]:
    """Manufacturer and drug class by formulary code; `*` is the default row."""
    with PRODUCTS.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: {"manufacturer": row["manufacturer"], "drug_class": row["drug_class"]}
                for row in csv.DictReader(handle)}


def catalogue_payload(formulary: Formulary) -> FormularyCatalogue:
    products = drug_products()
    drugs = []
    for drug in sorted(formulary, key=lambda d: d.code):
        product = products.get(drug.code) or products.get("*") or {}
        drugs.append(CatalogueDrug(
            code=drug.code, name_zh=drug.name_zh, generic_name=drug.generic_name, form=drug.form,
            strength=str(drug.strength), strength_unit=drug.strength_unit, pack_size=drug.pack_size,
            dispensing_unit=drug.dispensing_unit, in_use=not drug.is_controlled,
            manufacturer=product.get("manufacturer", ""), drug_class=product.get("drug_class", "")))
    digest = hashlib.sha256(json.dumps(msgspec.to_builtins(drugs), ensure_ascii=False, sort_keys=True).encode())
    return FormularyCatalogue(sha256=digest.hexdigest(), drugs=drugs)


async def file_catalogue(session: AsyncSession, formulary: Formulary | None = None) -> bool:
    """Emit a `formulary.catalogue` event when the catalogue differs from the last one filed; commits.
    Returns whether it emitted one."""
    payload = catalogue_payload(formulary or load_formulary())
    table = OutboxEvent.__table__  # type: ignore[attr-defined]
    last = (await session.execute(sa.select(table.c.payload, table.c.version).where(
        table.c.event_type == CATALOGUE_EVENT).order_by(table.c.seq.desc()).limit(1))).first()
    if last is not None and last.payload.get("sha256") == payload.sha256:
        await session.rollback()
        return False
    await emit(session, CATALOGUE_EVENT, subject_type="formulary", subject_id="catalogue", payload=payload,
               version=(last.version + 1) if last is not None else 1)
    await session.commit()
    return True
