"""The HTTP API (aiohttp): views translate requests into handler calls; errors become problem+json."""
from connectors.http.app import GATEWAY, create_app, create_ops_app

__all__ = ["GATEWAY", "create_app", "create_ops_app"]
