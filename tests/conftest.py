"""Every test process gets the resource names a deployed function gets from CDK (``Settings`` has no
defaults for them): test values, set explicitly here, never pointing at a real resource. A local stack
started by a test sets its own (the emulator's) over these, and the e2e tests start theirs in a clean
environment."""

from __future__ import annotations

import os

TEST_RESOURCES = {
    "UPLOADS_BUCKET": "test-uploads",
    "OBJECT_EVENTS_QUEUE_URL": "http://sqs.test/000000000000/test-object-events",
    "CHUNKS_QUEUE_URL": "http://sqs.test/000000000000/test-chunks",
    "CHUNKS_DLQ_URL": "http://sqs.test/000000000000/test-chunks-dlq",
    "WEBHOOKS_QUEUE_URL": "http://sqs.test/000000000000/test-webhooks",
    "FINISHED_QUEUE_URL": "http://sqs.test/000000000000/test-finished",
    "PROGRESS_TABLE": "test-progress",
    "CONNECTIONS_TABLE": "test-connections",
    "WEBSOCKET_URL": "ws://websocket.test/",
    "WEBSOCKET_MANAGEMENT_URL": "http://websocket.test",
}

for _name, _value in TEST_RESOURCES.items():
    os.environ.setdefault(_name, _value)
# What CDK gives every function too (Powertools' Metrics refuses to flush without it): a handler run by a
# test on its own (tests/integration/test_changes_api.py's sweep) failed unless another module had set it.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductImporterTest")
