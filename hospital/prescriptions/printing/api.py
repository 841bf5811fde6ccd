"""The printable 处方笺 over HTTP: the sealed PDF of an approved prescription, for whoever may read its export."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.identity.guards import principal_of, requires_role
from hospital.identity.models import Role
from hospital.prescriptions.printing import service
from hospital.web.http import actor_of

__all__ = ["PrintingController"]

PDF = "application/pdf"
requires_reader = requires_role(Role.PATIENT, Role.DOCTOR, Role.PHARMACIST)  # the export's readers


class PrintingController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @get("/prescriptions/{prescription_id:uuid}/document.pdf", guards=[requires_reader], media_type=PDF,
         summary="The 处方笺 PDF of an approved prescription, sealed by the hospital (PAdES), with both JWS attached",
         description="The 处方管理办法 layout on paper of its kind's colour; a QR code names the prescription number, "
                     "the SHA-256 of the signed payload and where to fetch and verify the export. Verify it offline "
                     "with `hospital rx pdf-verify`. Same readers and refusals as the export (RX-06, RX-08).")
    async def document(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prescription_id: uuid.UUID) -> Response[bytes]:
        printed = await service.print_prescription(db_session, ctx, actor_of(request), principal_of(request),
                                                   prescription_id)
        return Response(printed.pdf, media_type=PDF,
                        headers={"Content-Disposition": f'inline; filename="{printed.file_name}"'})
