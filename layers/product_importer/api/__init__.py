"""The REST API (CONTRACT §3): a FastAPI app, wrapped by Mangum in Lambda and served by uvicorn locally."""
