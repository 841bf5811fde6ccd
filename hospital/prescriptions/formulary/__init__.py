"""The formulary (RX-02, RX-03, RX-04): every drug the hospital may prescribe online or must recognise, with its
class, limits and price, and the tables the prescription rules consult.

    data/         the reviewed CSV tables, each row with its source (data/README.md)
    values.py     drugs and their classes, incompatible pairs, indications, allergen groups: the `Formulary`
    tables.py     reading and checking the tables: `load_formulary()`; `FormularyError` names file, line, column
    queries.py    `formulary_of(ctx)`: the formulary the app serves, loaded once per process
    api.py        GET /api/formulary (public: the doctor's form and the drug prices, INS-03)
    cli.py        `hospital formulary check | drug`

It has no rules.py, models.py or service.py: the formulary is reviewed reference data, read from files, and
nothing stores or changes it at run time; the rules that consult it are writing's.
"""
