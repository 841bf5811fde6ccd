"""Formulary events: the drug catalogue, filed first and again on every change → uploadDrugCatalogue.

The prescriptions' `orderList[].drcode` is the catalogue's `hospDrugCode`, so the catalogue must be on the
platform before any prescription (the ordering in data/timing.csv)."""

from __future__ import annotations

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, MappingFailed
from connectors.supervision.mapping.codes import flag

__all__ = ["CATALOGUE_METHOD", "MAPPERS"]

CATALOGUE_METHOD = "uploadDrugCatalogue"


def catalogue(event: EventView, ctx: MapContext) -> Mapped:
    drugs = event.require("drugs")
    if not drugs:
        raise MappingFailed("formulary.catalogue lists no drugs")
    when = ctx.local_time(event.created_at)
    records = [{
        **ctx.organ(),
        "hospDrugCode": d["code"],
        "hospDrugName": d["name_zh"],
        "hospTradeName": d.get("trade_name", ""),
        "hospDrugPacking": f"{d['strength']}{d['strength_unit']}*{d['pack_size']}{d['dispensing_unit']}",
        "hospDrugManuf": d.get("manufacturer", ""),
        "drugClass": d.get("drug_class", ""),
        "useFlag": flag(d.get("in_use", True)),
        "updateTime": when,
    } for d in drugs]
    return Mapped(CATALOGUE_METHOD, records)


MAPPERS: dict[str, Mapper] = {"formulary.catalogue": catalogue}
