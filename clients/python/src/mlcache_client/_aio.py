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
    TLS,
    Value,
    as_bytes,
    authorization,
    bulk_results,
    channel_credentials,
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

    `token` is sent as "authorization: Bearer <token>" on every call; `tls=TLS(ca=..., cert=..., key=...)`
    connects over TLS (mutual with a client certificate). Plaintext without a credential by default.
    """

    def __init__(
        self,
        target: str,
        *,
        namespace: str = "",
        timeout: float | None = 5.0,
        retry: Retry = Retry(),
        token: str | None = None,
        tls: TLS | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        options: list[tuple[str, Any]] | None = None,
    ):
        channel_options = retry.channel_options() + (options or [])
        credentials = channel_credentials(tls, credentials)
        # The token travels as metadata on every call (plaintext on loopback too, where gRPC's
        # call credentials are refused), through an interceptor so that `rpc` carries it as well.
        header = authorization(token) if token else None
        interceptors = [_BearerUnary(header), _BearerStream(header)] if header else []
        self.channel = (
            grpc.aio.secure_channel(target, credentials, channel_options, interceptors=interceptors)
            if credentials
            else grpc.aio.insecure_channel(target, channel_options, interceptors=interceptors)
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


class _Bearer:
    """Adds the authorization entry to every call's metadata."""

    def __init__(self, header: tuple[str, str]):
        self._header = header

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"  # never the token

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*tuple(details.metadata or ()), self._header)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


# Two classes: grpc.aio files an interceptor under the first of its kinds only.
class _BearerUnary(_Bearer, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._details(details), request)


class _BearerStream(_Bearer, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._details(details), request)
