"""The asyncio client (grpc.aio)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio

from mlcache.v1 import cache_pb2, cache_pb2_grpc, common_pb2

from ._common import (
    CacheError,
    Retry,
    Seconds,
    Value,
    as_bytes,
    bulk_results,
    invalidate_request,
    read_options,
    set_request,
    watch_request,
)


class AsyncCacheClient:
    """The asyncio MultilayerCache client; the same methods as CacheClient, awaited.

    async with AsyncCacheClient("127.0.0.1:50051") as cache:
        await cache.set("k", "v")
        async for response in cache.watch_stats(interval=1): ...
    """

    def __init__(
        self,
        target: str,
        *,
        namespace: str = "",
        timeout: float | None = 5.0,
        retry: Retry = Retry(),
        credentials: grpc.ChannelCredentials | None = None,
        options: list[tuple[str, Any]] | None = None,
    ):
        channel_options = retry.channel_options() + (options or [])
        self.channel = (
            grpc.aio.secure_channel(target, credentials, channel_options)
            if credentials
            else grpc.aio.insecure_channel(target, channel_options)
        )
        self.rpc = cache_pb2_grpc.CacheServiceStub(self.channel)
        self.namespace = namespace
        self.timeout = timeout
        self._loads: dict[tuple[str, str], asyncio.Future[bytes]] = {}

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> "AsyncCacheClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _call(self, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        try:
            return await method(request, timeout=timeout if timeout is not None else self.timeout)
        except grpc.aio.AioRpcError as error:
            raise CacheError.from_rpc(error) from None

    async def get(
        self, key: str, *, namespace: str | None = None, timeout: float | None = None, **read: Any
    ) -> common_pb2.Item | None:
        request = cache_pb2.GetRequest(namespace=namespace or self.namespace, key=key, options=read_options(**read))
        item = (await self._call(self.rpc.Get, request, timeout)).item
        return item if item.found else None

    async def get_json(self, key: str, **kwargs: Any) -> Any:
        item = await self.get(key, **kwargs)
        return json.loads(item.value) if item else None

    async def bulk_get(
        self, keys: list[str], *, namespace: str | None = None, timeout: float | None = None, **read: Any
    ) -> dict[str, common_pb2.Item | None | CacheError]:
        request = cache_pb2.BulkGetRequest(namespace=namespace or self.namespace, keys=keys, options=read_options(**read))
        return bulk_results(await self._call(self.rpc.BulkGet, request, timeout))

    async def set(
        self, key: str, value: Value, *, namespace: str | None = None, timeout: float | None = None, **write: Any
    ) -> cache_pb2.SetResponse:
        return await self._call(self.rpc.Set, set_request(namespace or self.namespace, key, value, **write), timeout)

    async def set_json(self, key: str, value: Any, **kwargs: Any) -> cache_pb2.SetResponse:
        return await self.set(key, json.dumps(value), **kwargs)

    async def invalidate(
        self,
        *,
        keys: list[str] | None = None,
        tags: list[str] | None = None,
        prefix: str | None = None,
        namespace: str | None = None,
        timeout: float | None = None,
    ) -> cache_pb2.InvalidateResponse:
        request = invalidate_request(namespace or self.namespace, keys, tags, prefix)
        return await self._call(self.rpc.Invalidate, request, timeout)

    async def get_or_set(
        self, key: str, fallback: Callable[[], Awaitable[Value]], *, namespace: str | None = None, **write: Any
    ) -> bytes:
        """The cached value, or else `await fallback()`, which is stored; concurrent calls share one."""
        ns = namespace or self.namespace
        if (ns, key) in self._loads:
            return await asyncio.shield(self._loads[(ns, key)])
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._loads[(ns, key)] = future
        try:
            item = await self.get(key, namespace=ns)
            if item:
                value = item.value
            else:
                value = as_bytes(await fallback())
                await self.set(key, value, namespace=ns, **write)
            future.set_result(value)
            return value
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            del self._loads[(ns, key)]

    async def watch_stats(
        self, *, interval: Seconds | None = None, namespaces: list[str] | None = None, hot_keys: int = 0
    ) -> AsyncIterator[cache_pb2.WatchStatsResponse]:
        call = self.rpc.WatchStats(watch_request(interval, namespaces, hot_keys))
        try:
            async for response in call:
                yield response
        except grpc.aio.AioRpcError as error:
            raise CacheError.from_rpc(error) from None
        finally:
            call.cancel()

    async def inspect(
        self, request: cache_pb2.InspectRequest, *, timeout: float | None = None
    ) -> cache_pb2.InspectResponse:
        return await self._call(self.rpc.Inspect, request, timeout)
