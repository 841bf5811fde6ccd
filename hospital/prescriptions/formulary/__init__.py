"""The formulary (RX-02, RX-03, RX-04): the reviewed drug tables in `data/`, their loader and checks, the
`hospital formulary …` commands and `GET /api/formulary`."""
