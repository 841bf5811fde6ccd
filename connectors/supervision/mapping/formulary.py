"""Formulary events: the drug catalogue, filed first and again on every change → uploadDrugCatalogue.

The prescriptions' `orderList[].drcode` is the catalogue's `hospDrugCode`, so the catalogue must be on the
platform before any prescription (the ordering in data/timing.csv)."""

from __future__ import annotations

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, MappingFailed
from connectors.supervision.mapping.codes import flag
from hospital.contracts.prescriptions import FormularyCatalogue

__all__ = ["CATALOGUE_METHOD", "MAPPERS"]

CATALOGUE_METHOD = "uploadDrugCatalogue"


def catalogue(event: EventView[FormularyCatalogue], ctx: MapContext) -> Mapped:
    drugs = event.data.drugs
    if not drugs:
        raise MappingFailed("formulary.catalogue lists no drugs")
    when = ctx.local_time(event.created_at)
    records = [{
        **ctx.organ(),
        "hospDrugCode": d.code,
        "hospDrugName": d.name_zh,
        "hospTradeName": "",  # the formulary names drugs generically, not by brand
        "hospDrugPacking": f"{d.strength}{d.strength_unit}*{d.pack_size}{d.dispensing_unit}",
        "hospDrugManuf": d.manufacturer,
        "drugClass": d.drug_class,
        "useFlag": flag(d.in_use),
        "updateTime": when,
    } for d in drugs]
    return Mapped(CATALOGUE_METHOD, records)


MAPPERS: dict[str, Mapper] = {"formulary.catalogue": catalogue}
