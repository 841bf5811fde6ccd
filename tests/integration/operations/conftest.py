"""The operations tests reuse the connector's simulator fixtures."""

from tests.integration.connector.conftest import connector_settings, dispatchers, sim  # noqa: F401
