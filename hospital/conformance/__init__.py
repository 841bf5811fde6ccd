"""The conformance kit vendors run: requirement → rule → proof (`hospital conformance matrix`), proof by removal
(`hospital conformance prove`) and the regulator's scenarios as data (`hospital conformance run`).

It stands above every area: it reads the rule registry, scans the test suite and drives the HTTP API. See
docs/conformance.md.
"""
