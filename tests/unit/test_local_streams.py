"""The local stack's DynamoDB stream (moto): each record once. Two writes at once got one sequence number
from moto, and the poller was then handed the last record on every poll: a WebSocket client got one final
progress message 2,139 times, and each queued another finisher job."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from moto import mock_aws

from infra.local.emulator import _serialise_stream_records
from infra.local.pump import StreamPoller


def test_concurrent_writes_get_distinct_sequence_numbers() -> None:
    _serialise_stream_records()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends["123456789012"]["us-east-1"].tables["t"].stream_shard
        assert shard is not None
        barrier = threading.Barrier(8)

        clients = [boto3.client("dynamodb", region_name="us-east-1") for _ in range(8)]

        def write(n: int) -> None:
            barrier.wait()
            for i in range(300):
                clients[n].put_item(TableName="t", Item={"k": {"S": f"{n}-{i}"}})

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        numbers = [r.to_json()["dynamodb"]["SequenceNumber"] for r in shard.items]
        assert len(numbers) == 2400 and len(set(numbers)) == 2400


def test_the_poller_delivers_a_record_handed_out_again_once() -> None:
    poller = StreamPoller.__new__(StreamPoller)
    poller._delivered = {}

    def record(seq: int) -> dict[str, Any]:
        return {"eventID": str(seq), "dynamodb": {"SequenceNumber": str(seq)}}

    first = poller._new_records("s", [record(1), record(2), record(2)])
    again = poller._new_records("s", [record(2)])
    later = poller._new_records("s", [record(2), record(3)])

    assert [r["eventID"] for r in first] == ["1", "2"]
    assert again == []
    assert [r["eventID"] for r in later] == ["3"]
    assert poller._new_records("other", [{"eventID": "x", "dynamodb": {}}]) == [{"eventID": "x", "dynamodb": {}}]
