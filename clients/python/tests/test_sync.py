"""The blocking client against a real server: every CacheService RPC and the error codes."""

import socket
import threading
import time

import grpc
import pytest
from conftest import NAMESPACE, key

from mlcache.v1 import common_pb2
from mlcache_client import CacheClient, CacheError, InspectRequest, Retry


@pytest.fixture
def cache(server, token):
    with CacheClient(server, namespace=NAMESPACE, token=token) as client:
        yield client


def test_set_then_get(cache):
    written = cache.set(key("a"), "hello", ttl=60, tags=["t1"])
    assert written.applied
    item = cache.get(key("a"))
    assert item.value == b"hello"
    assert item.source == common_pb2.SOURCE_L1
    assert item.version == written.version
    assert list(item.tags) == ["t1"]


def test_get_missing_is_none(cache):
    assert cache.get(key("missing"), skip_loader=True) is None


def test_json(cache):
    cache.set_json(key("json"), {"name": "Ada"})
    assert cache.get_json(key("json")) == {"name": "Ada"}


def test_bulk_get(cache):
    cache.set(key("b1"), b"one")
    results = cache.bulk_get([key("b1"), key("b2")])
    assert results[key("b1")].value == b"one"
    assert results[key("b2")] is None


def test_invalidate(cache):
    for name in ["i1", "i2", "p:1"]:
        cache.set(key(name), "x", tags=[f"tag-{key('sync')}"])
    assert cache.invalidate(keys=[key("i1")]).keys_removed == 1
    cache.invalidate(tags=[f"tag-{key('sync')}"])
    cache.invalidate(prefix=key("p:"))
    assert all(cache.get(key(name)) is None for name in ["i1", "i2", "p:1"])


def test_get_or_set_calls_the_fallback_once(cache):
    calls = []

    def fallback():
        calls.append(1)
        time.sleep(0.02)
        return "computed"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_set(key("gos"), fallback))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [b"computed"] * 4
    assert len(calls) == 1


def test_watch_stats(cache):
    cache.set(key("w"), "x")
    cache.get(key("w"))
    snapshots = []
    for response in cache.watch_stats(interval=0.1, namespaces=[NAMESPACE]):
        snapshots.append(response.snapshot)
        if len(snapshots) == 2:
            break
    assert snapshots[1].namespaces[0].namespace == NAMESPACE
    assert snapshots[1].namespaces[0].requests > 0


def test_inspect(cache):
    cache.set(key("insp"), "v")
    response = cache.inspect(InspectRequest(namespace=NAMESPACE, keys=[key("insp")], hot_keys=10))
    assert response.key_stats[0].key == key("insp")
    assert any(layer.present for layer in response.key_stats[0].layers)


def test_error_codes(cache):
    with pytest.raises(CacheError) as error:
        cache.get("")
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(CacheError) as error:
        cache.invalidate()
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(CacheError) as error:
        next(iter(cache.watch_stats(interval=0.001)))
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_deadline_exceeded():
    # A listener that accepts and never answers: a hung server.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with CacheClient(f"127.0.0.1:{port}", timeout=0.2) as client:
            with pytest.raises(CacheError) as error:
                client.get("k")
    assert error.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_unavailable_after_retries():
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    with CacheClient(f"127.0.0.1:{port}", retry=Retry(max_attempts=4, initial_backoff=0.01)) as client:
        with pytest.raises(CacheError) as error:
            client.get("k")
    assert error.value.code == grpc.StatusCode.UNAVAILABLE
