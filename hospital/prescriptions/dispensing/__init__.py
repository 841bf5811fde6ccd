"""Dispensing and delivery (RX-08): an approved prescription is dispensed once, then shipped and delivered.

    service.py    `dispense` (after checking the doctor's and the pharmacist's signatures), `update_delivery`
    queries.py    the dispensing queue
    api.py        GET /api/dispensing/queue, POST /api/prescriptions/{id}/dispensing, POST /api/dispensings/{id}/delivery

Its checks are in the area's status machine (`hospital.prescriptions.rules`: `check_dispensable`,
`check_courier`, `next_delivery_status`), its table in `hospital.prescriptions.models` (the reason is in
`hospital.prescriptions`). What is its own alone, the pick-up or delivery choice, the delivery address, shipping
and handing over a pick-up, is in `rules.py`.
"""
