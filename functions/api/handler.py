"""api: the REST API behind API Gateway (HTTP API v2 events), FastAPI wrapped by Mangum."""

from __future__ import annotations

from mangum import Mangum
from product_importer.api.app import create_app

app = create_app()
handler = Mangum(app, lifespan="off")
