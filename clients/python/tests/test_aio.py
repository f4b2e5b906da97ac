"""The asyncio client against a real server: every CacheService RPC and the error codes."""

import asyncio

import grpc
import pytest
from conftest import NAMESPACE, key

from mlcache_client import AsyncCacheClient, CacheError, InspectRequest


@pytest.fixture
async def cache(server, token):
    async with AsyncCacheClient(server, namespace=NAMESPACE, token=token) as client:
        yield client


async def test_set_get_json_bulk(cache):
    written = await cache.set(key("aio-a"), "hello")
    assert (await cache.get(key("aio-a"))).version == written.version
    await cache.set_json(key("aio-json"), [1, 2])
    assert await cache.get_json(key("aio-json")) == [1, 2]
    results = await cache.bulk_get([key("aio-a"), key("aio-none")])
    assert results[key("aio-a")].value == b"hello"
    assert results[key("aio-none")] is None


async def test_invalidate(cache):
    await cache.set(key("aio-i"), "x")
    assert (await cache.invalidate(keys=[key("aio-i")])).keys_removed == 1
    assert await cache.get(key("aio-i")) is None


async def test_get_or_set_calls_the_fallback_once(cache):
    calls = []

    async def fallback():
        calls.append(1)
        await asyncio.sleep(0.02)
        return b"computed"

    values = await asyncio.gather(*(cache.get_or_set(key("aio-gos"), fallback) for _ in range(4)))
    assert values == [b"computed"] * 4
    assert await cache.get_or_set(key("aio-gos"), fallback) == b"computed"
    assert len(calls) == 1


async def test_watch_stats(cache):
    snapshots = []
    async for response in cache.watch_stats(interval=0.1):
        snapshots.append(response.snapshot)
        if len(snapshots) == 2:
            break
    assert len(snapshots) == 2 and snapshots[0].instance_id


async def test_inspect(cache):
    await cache.set(key("aio-insp"), "v")
    response = await cache.inspect(InspectRequest(namespace=NAMESPACE, keys=[key("aio-insp")]))
    assert response.key_stats[0].key == key("aio-insp")


async def test_error_codes(cache):
    with pytest.raises(CacheError) as error:
        await cache.get("")
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
