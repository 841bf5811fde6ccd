"""The printable 处方笺 (issue 19): an approved prescription on paper, sealed by the hospital.

    layout.py     the page as 处方管理办法 附件 lays it out, and the paper's colour by kind (pure)
    sheet.py      from the signed payloads to the page's words (pure)
    document.py   the PDF: page, QR image, attachments, and the PAdES seal (pyHanko)
    verify.py     the offline check of a printed PDF (`hospital rx pdf-verify`)
    service.py    print: scope, audit, export, seal (one transaction)
    api.py        GET /api/prescriptions/{id}/document.pdf
    cli.py        `hospital rx pdf-verify FILE`
"""
