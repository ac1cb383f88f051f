"""One description of the wiring (``infra/topology.py``) that the package, the local stack and CDK agree on:
environment variable names, table shapes, key prefixes, metrics namespace, DLQ retention, stream batch."""

from __future__ import annotations

from pathlib import Path

from product_importer import naming
from product_importer.progress import LIST_INDEX
from product_importer.realtime.connections import BY_IMPORT_INDEX
from product_importer.settings import Settings

from infra import topology
from infra.local.environment import stack_environment
from infra.local.resources import LocalResources
from infra.local.stack import LocalConfig

ENV_NAMES = {value for name, value in vars(topology).items() if name.startswith("ENV_")}
NOT_SETTINGS = {topology.ENV_POWERTOOLS_SERVICE_NAME, topology.ENV_POWERTOOLS_METRICS_NAMESPACE,
                topology.ENV_LOG_LEVEL}


def test_every_variable_the_functions_get_is_a_settings_field() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert fields >= ENV_NAMES - NOT_SETTINGS


def test_the_settings_without_defaults_are_exactly_the_resources_topology_names() -> None:
    required = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}
    assert required == set(topology.RESOURCE_ENV)


def local_environment() -> dict[str, str]:
    resources = LocalResources(
        bucket="b",
        queue_urls={name: f"http://q/{name}" for name in topology.QUEUES},
        dlq_urls={name: f"http://q/{name}-dlq" for name in topology.QUEUES},
    )
    config = LocalConfig(state_dir=Path("/tmp/state"), static_dir=None)
    return {**stack_environment(config, "postgresql://local/db"), **resources.environment()}


def test_the_local_stack_sets_every_resource_and_the_shared_knobs_by_their_topology_names() -> None:
    env = local_environment()
    assert set(topology.RESOURCE_ENV) <= set(env)
    assert env[topology.ENV_POWERTOOLS_METRICS_NAMESPACE] == topology.METRICS_NAMESPACE
    assert env[topology.ENV_CHUNK_MAX_RECEIVES] == str(topology.QUEUES["chunks"].max_receive_count)
    assert env[topology.ENV_OBJECT_EVENTS_MAX_RECEIVES] == str(
        topology.QUEUES["object-events"].max_receive_count
    )


def test_the_tables_have_the_indexes_the_stores_query() -> None:
    progress = topology.table_definition("progress", "p")
    (by_created,) = progress["GlobalSecondaryIndexes"]
    assert by_created["IndexName"] == LIST_INDEX
    assert [k["AttributeName"] for k in by_created["KeySchema"]] == ["kind", "created_sort"]
    assert progress["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    connections = topology.table_definition("connections", "c")
    (by_import,) = connections["GlobalSecondaryIndexes"]
    assert by_import["IndexName"] == BY_IMPORT_INDEX
    assert by_import["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert "StreamSpecification" not in connections
    for definition in (progress, connections):
        declared = {a["AttributeName"] for a in definition["AttributeDefinitions"]}
        used = {k["AttributeName"] for k in definition["KeySchema"]} | {
            k["AttributeName"] for i in definition["GlobalSecondaryIndexes"] for k in i["KeySchema"]
        }
        assert declared == used  # DynamoDB refuses attribute definitions no key uses


def test_the_watched_prefixes_are_the_packages() -> None:
    assert topology.WATCHED_PREFIXES == (naming.UPLOAD_PREFIX, naming.DROP_PREFIX)


def test_the_local_stream_poller_batches_as_the_stream_trigger() -> None:
    from infra.local.workers import stream_batch_size, stream_triggers

    trigger = topology.FUNCTIONS["broadcaster"].trigger
    assert isinstance(trigger, topology.StreamTrigger)
    assert stream_triggers() == {"broadcaster": trigger}
    assert stream_batch_size() == trigger.batch_size


def test_every_metric_the_dashboard_reads_is_emitted_by_the_function_it_names() -> None:
    """The dashboard read ChunksDeadLettered under the consumer, which never emits it (an empty line)."""
    import re
    from pathlib import Path

    from infra.cdk import names

    root = Path(__file__).resolve().parents[2]
    for constant in (n for n in dir(names) if n.startswith("METRIC_") and n != "METRICS_NAMESPACE"):
        service, metric = getattr(names, constant)
        handler = (root / "functions" / service / "handler.py").read_text()
        assert f'Metrics(service="{service}")' in handler, constant
        emitted = set(re.findall(r'add_metric\(\s*name="(\w+)"', handler))
        assert metric in emitted, f"{constant}: functions/{service} emits {sorted(emitted)}"


def test_every_handler_folder_is_a_function_of_the_topology() -> None:
    """A handler under functions/ that the topology does not name is deployed nowhere (CDK and the local
    stack build exactly the topology's functions): found with purge_undo's sweep, which nothing ran."""
    root = Path(__file__).resolve().parents[2] / "functions"
    folders = {p.parent.name for p in root.glob("*/handler.py")}
    assert folders == set(topology.FUNCTIONS) | {topology.CONNECT_AUTHORIZER.name}


def test_timeouts_fit_the_triggers_that_call_them() -> None:
    """AWS: an SQS event source's queue hides a message 6x the function's timeout (else a batch still running
    is handed out again); the API answers within API Gateway's 30 s integration timeout; the splitter hands
    over before its deadline. The local stack takes the same numbers from the topology."""
    from product_importer.settings import Settings

    for spec in topology.FUNCTIONS.values():
        trigger = spec.trigger
        if isinstance(trigger, topology.SqsTrigger):
            assert topology.QUEUES[trigger.queue].visibility_timeout_s >= 6 * spec.timeout_s, spec.name
        if isinstance(trigger, topology.DeadLetterTrigger):
            for queue in trigger.queues:
                assert (topology.dlq_visibility_timeout_s(queue) or 0) >= 6 * spec.timeout_s, (spec.name, queue)
        if isinstance(trigger, topology.HttpTrigger):
            assert spec.timeout_s < 30, spec.name
    margin = Settings.model_fields["splitter_deadline_margin_s"].default
    assert 0 < margin < topology.FUNCTIONS["splitter"].timeout_s / 4


def test_the_webhooks_queue_holds_every_retry_of_a_delivery() -> None:
    """A delivery retries as its message's visibility timeout: every attempt is a receive, so the queue's
    maxReceiveCount must exceed the attempts (else the last ones go to the DLQ unsent), each wait must be one
    SQS allows (12 h), and the whole schedule must fit in the queue's retention."""
    from product_importer.webhooks.dispatch import MAX_ATTEMPTS, MAX_DELAY_S, retry_delay

    spec = topology.QUEUES["webhooks"]
    assert spec.max_receive_count > MAX_ATTEMPTS
    assert MAX_DELAY_S <= 12 * 3600
    longest = sum(retry_delay(n, Settings.model_fields["webhooks_retry_base_s"].default, jitter=lambda: 1.0)
                  for n in range(1, MAX_ATTEMPTS))
    assert 20 * 3600 < longest < spec.retention_days * 86400  # about a day of retries, kept by the queue
