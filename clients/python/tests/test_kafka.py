"""A Kafka consumer in Python decoding the InvalidationEvents the server publishes.

scripts/clients/run-suites.mjs starts the server with Kafka configured (a Kafka it finds running,
MLCACHE_KAFKA_BROKERS, or one it starts through scripts/services.mjs) and topics unique to the
run, and sets MLCACHE_KAFKA_BROKERS and MLCACHE_KAFKA_INVALIDATIONS_TOPIC. Every Invalidate and
Set made through the Python client must come out of that topic as an `mlcache.v1.InvalidationEvent`
keyed `namespace/key` (or `namespace/tag:T`, `namespace/prefix:P`).
"""

import os
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from conftest import NAMESPACE, key

from mlcache.v1 import events_pb2
from mlcache_client import AsyncCacheClient, CacheClient

WAIT = 20.0  # seconds an event may take to arrive


@pytest.fixture(scope="module")
def kafka() -> tuple[str, str]:
    brokers = os.environ.get("MLCACHE_KAFKA_BROKERS")
    topic = os.environ.get("MLCACHE_KAFKA_INVALIDATIONS_TOPIC")
    if not brokers or not topic:
        why = os.environ.get("MLCACHE_KAFKA_ERROR") or (
            "MLCACHE_KAFKA_BROKERS and MLCACHE_KAFKA_INVALIDATIONS_TOPIC are not set: run `npm run test:clients`, "
            "which finds or starts Kafka (scripts/services.mjs: Java 17+ and Maven) and configures the server with it"
        )
        pytest.fail(f"these tests consume the server's InvalidationEvents from Kafka, but {why}")
    return brokers, topic


@pytest.fixture
def events(kafka):
    """A consumer positioned at the end of every partition of the invalidations topic: it sees
    what is published from now on. Yields a function that waits for the event matching a test."""
    brokers, topic = kafka
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"client-python-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "socket.timeout.ms": 10_000,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        if metadata.topics[topic].error is not None or not partitions:
            pytest.fail(f"topic {topic} has no partitions on {brokers}: {metadata.topics[topic].error}")
        ends = [
            TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1])
            for p in partitions
        ]
        consumer.assign(ends)

        def wait_for(match) -> tuple[str, events_pb2.InvalidationEvent]:
            """The first (record key, event) published from now on for which match(event) holds."""
            deadline = time.monotonic() + WAIT
            seen = 0
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(message.error())
                seen += 1
                event = events_pb2.InvalidationEvent.FromString(message.value())
                if match(event):
                    return message.key().decode(), event
            pytest.fail(f"no matching InvalidationEvent on {topic} within {WAIT}s ({seen} other events seen)")

        yield wait_for
    finally:
        consumer.close()


@pytest.fixture
def cache(server, token):
    with CacheClient(server, namespace=NAMESPACE, token=token) as client:
        yield client


def assert_published_by_the_server(event: events_pb2.InvalidationEvent) -> None:
    assert event.namespace == NAMESPACE
    assert event.origin_instance  # the server's instance id; empty only for outside publishers
    assert event.event_id
    assert abs(event.time.ToMilliseconds() / 1000 - time.time()) < 60


def test_invalidate_by_key_publishes_an_invalidation_event(cache, events):
    k = key("kafka-invalidate")
    cache.set(k, "x")
    cache.invalidate(keys=[k])
    record_key, event = events(lambda e: list(e.keys) == [k] and e.cause == events_pb2.INVALIDATION_CAUSE_INVALIDATE)
    assert record_key == f"{NAMESPACE}/{k}"
    assert list(event.tags) == [] and not event.HasField("prefix")
    assert_published_by_the_server(event)


def test_set_publishes_an_event_with_the_new_version(cache, events):
    k = key("kafka-set")
    written = cache.set(k, "v1")
    record_key, event = events(lambda e: list(e.keys) == [k] and e.cause == events_pb2.INVALIDATION_CAUSE_SET)
    assert record_key == f"{NAMESPACE}/{k}"
    assert event.version == written.version
    assert_published_by_the_server(event)


def test_invalidate_by_tag_and_by_prefix(cache, events):
    tag, prefix = key("kafka-tag"), key("kafka-prefix:")
    cache.invalidate(tags=[tag])
    record_key, event = events(lambda e: list(e.tags) == [tag])
    assert record_key == f"{NAMESPACE}/tag:{tag}"
    assert event.cause == events_pb2.INVALIDATION_CAUSE_INVALIDATE and list(event.keys) == []
    assert_published_by_the_server(event)

    cache.invalidate(prefix=prefix)
    record_key, event = events(lambda e: e.HasField("prefix") and e.prefix == prefix)
    assert record_key == f"{NAMESPACE}/prefix:{prefix}"
    assert_published_by_the_server(event)


async def test_asyncio_client_invalidations_are_published_too(server, token, events):
    k = key("kafka-aio")
    async with AsyncCacheClient(server, namespace=NAMESPACE, token=token) as cache:
        await cache.invalidate(keys=[k])
    record_key, event = events(lambda e: list(e.keys) == [k])
    assert record_key == f"{NAMESPACE}/{k}"
    assert event.cause == events_pb2.INVALIDATION_CAUSE_INVALIDATE
