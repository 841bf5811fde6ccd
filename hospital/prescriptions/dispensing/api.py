"""Dispensing and delivery over HTTP: the queue, dispensing once, shipping and delivery or the hand-over of a
pick-up (RX-08)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import DispensingView, PrescriptionView
from hospital.contracts.prescriptions import FulfilmentView
from hospital.identity.guards import principal_of, requires_patient, requires_pharmacist, requires_role
from hospital.identity.models import Role
from hospital.prescriptions import queries as prescriptions
from hospital.prescriptions.dispensing import queries, service
from hospital.web.http import actor_of

__all__ = ["DispensingController"]

Text = Annotated[str, msgspec.Meta(max_length=500)]


class DispensingBody(msgspec.Struct, forbid_unknown_fields=True):
    courier_kind: str  # own | third_party
    courier_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class AddressBody(msgspec.Struct, forbid_unknown_fields=True):
    province: Annotated[str, msgspec.Meta(max_length=20)] = ""
    city: Annotated[str, msgspec.Meta(max_length=60)] = ""
    district: Annotated[str, msgspec.Meta(max_length=60)] = ""
    detail: Annotated[str, msgspec.Meta(max_length=250)] = ""
    recipient: Annotated[str, msgspec.Meta(max_length=60)] = ""
    mobile: Annotated[str, msgspec.Meta(max_length=20)] = ""
    postcode: Annotated[str, msgspec.Meta(max_length=10)] | None = None


class FulfilmentBody(msgspec.Struct, forbid_unknown_fields=True):
    method: str  # pickup | delivery
    address: AddressBody | None = None


class CollectionBody(msgspec.Struct, forbid_unknown_fields=True):
    collector: str  # patient | agent
    agent_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class DeliveryBody(msgspec.Struct, forbid_unknown_fields=True):
    status: str  # shipped | delivered
    tracking_number: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    courier_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    note: Text = ""


class DispensingController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @get("/dispensing/queue", guards=[requires_pharmacist], summary="Approved prescriptions not yet dispensed")
    async def dispensing_queue(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                               ctx: HospitalContext) -> list[PrescriptionView]:
        return await queries.dispensing_queue(db_session, ctx, principal_of(request), actor=actor_of(request))

    @post("/prescriptions/{prescription_id:uuid}/dispensing", guards=[requires_pharmacist], status_code=201,
          summary="Dispense an approved prescription, once (RX-06, RX-08)")
    async def dispense(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prescription_id: uuid.UUID, data: DispensingBody) -> DispensingView:
        dispensing = await service.dispense(db_session, ctx, actor_of(request), principal_of(request), prescription_id,
                                            data.courier_kind, data.courier_name)
        return msgspec.convert(prescriptions.dispensing_view(dispensing), DispensingView)

    @post("/dispensings/{dispensing_id:uuid}/delivery", guards=[requires_pharmacist], status_code=200,
          summary="Record shipping (courier, tracking number) or delivery (RX-08)")
    async def delivery(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       dispensing_id: uuid.UUID, data: DeliveryBody) -> DispensingView:
        dispensing = await service.update_delivery(
            db_session, ctx, actor_of(request), principal_of(request), dispensing_id, data.status,
            tracking_number=data.tracking_number, courier_name=data.courier_name, note=data.note)
        return msgspec.convert(prescriptions.dispensing_view(dispensing), DispensingView)

    @post("/prescriptions/{prescription_id:uuid}/collection", guards=[requires_pharmacist], status_code=200,
          summary="Record that the patient (or their named agent) collected a pick-up at the pharmacy (RX-08)")
    async def collection(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                         prescription_id: uuid.UUID, data: CollectionBody) -> DispensingView:
        dispensing = await service.record_collection(db_session, ctx, actor_of(request), principal_of(request),
                                                     prescription_id, data.collector, data.agent_name)
        return msgspec.convert(prescriptions.dispensing_view(dispensing), DispensingView)

    @put("/prescriptions/{prescription_id:uuid}/fulfilment", guards=[requires_patient], status_code=200,
         summary="The patient chooses pick-up at the pharmacy or delivery to a mainland address (RX-08)")
    async def choose_fulfilment(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                                ctx: HospitalContext, prescription_id: uuid.UUID,
                                data: FulfilmentBody) -> FulfilmentView:
        address = msgspec.structs.asdict(data.address) if data.address is not None else None
        return msgspec.convert(await service.choose_fulfilment(db_session, ctx, actor_of(request),
                                                               principal_of(request), prescription_id, data.method,
                                                               address), FulfilmentView)

    @get("/prescriptions/{prescription_id:uuid}/delivery-address", guards=[requires_role(Role.PATIENT, Role.PHARMACIST)],
         summary="The delivery address in full, for the patient and the pharmacist shipping it (RX-08, SEC-01)")
    async def delivery_address(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                               ctx: HospitalContext, prescription_id: uuid.UUID) -> FulfilmentView:
        return msgspec.convert(await service.delivery_address(db_session, ctx, actor_of(request),
                                                              principal_of(request), prescription_id), FulfilmentView)
