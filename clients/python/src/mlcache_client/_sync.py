"""The blocking client."""

from __future__ import annotations

import json
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import grpc

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


class CacheClient:
    """A blocking MultilayerCache client. Failed calls raise CacheError (with a gRPC code).

    with CacheClient("127.0.0.1:50051", namespace="users") as cache:
        cache.set("user:1", '{"name": "Ada"}', ttl=60)
        user = cache.get_json("user:1")

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
        header = authorization(token) if token else None
        self.channel = (
            grpc.secure_channel(target, credentials, channel_options)
            if credentials
            else grpc.insecure_channel(target, channel_options)
        )
        if header:
            # The token travels as metadata on every call (plaintext on loopback too, where gRPC's
            # call credentials are refused), through an interceptor so that `rpc` carries it as well.
            self.channel = grpc.intercept_channel(self.channel, _Bearer(header))
        self.rpc = cache_pb2_grpc.CacheServiceStub(self.channel)
        self.namespace = namespace
        self.timeout = timeout
        self._loads: dict[tuple[str, str], threading.Lock] = {}
        self._loads_lock = threading.Lock()

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "CacheClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        try:
            return method(request, timeout=timeout if timeout is not None else self.timeout)
        except grpc.RpcError as error:
            raise CacheError.from_rpc(error) from None

    def get(
        self, key: str, *, namespace: str | None = None, timeout: float | None = None, **read: Any
    ) -> common_pb2.Item | None:
        """The item under `key`, or None when no layer (nor the loader) has it.

        Read options: skip_loader, force_refresh, allow_stale, max_age."""
        request = cache_pb2.GetRequest(namespace=namespace or self.namespace, key=key, options=read_options(**read))
        item = self._call(self.rpc.Get, request, timeout).item
        return item if item.found else None

    def get_json(self, key: str, **kwargs: Any) -> Any:
        """The value under `key` decoded from JSON, or None when not found."""
        item = self.get(key, **kwargs)
        return json.loads(item.value) if item else None

    def bulk_get(
        self, keys: list[str], *, namespace: str | None = None, timeout: float | None = None, **read: Any
    ) -> dict[str, common_pb2.Item | None | CacheError]:
        """Every distinct key: its item, None when not found, or the CacheError it failed with."""
        request = cache_pb2.BulkGetRequest(namespace=namespace or self.namespace, keys=keys, options=read_options(**read))
        return bulk_results(self._call(self.rpc.BulkGet, request, timeout))

    def set(
        self, key: str, value: Value, *, namespace: str | None = None, timeout: float | None = None, **write: Any
    ) -> cache_pb2.SetResponse:
        """Writes `value` (str is stored as UTF-8). Options: ttl, fresh_for, tags, version, write_mode."""
        return self._call(self.rpc.Set, set_request(namespace or self.namespace, key, value, **write), timeout)

    def set_json(self, key: str, value: Any, **kwargs: Any) -> cache_pb2.SetResponse:
        return self.set(key, json.dumps(value), **kwargs)

    def invalidate(
        self,
        *,
        keys: list[str] | None = None,
        tags: list[str] | None = None,
        prefix: str | None = None,
        namespace: str | None = None,
        timeout: float | None = None,
    ) -> cache_pb2.InvalidateResponse:
        """Drops keys, everything carrying a tag, or everything under a prefix ("" drops the namespace)."""
        request = invalidate_request(namespace or self.namespace, keys, tags, prefix)
        return self._call(self.rpc.Invalidate, request, timeout)

    def get_or_set(self, key: str, fallback: Callable[[], Value], *, namespace: str | None = None, **write: Any) -> bytes:
        """The cached value, or else fallback()'s, which is stored. Concurrent calls for one key
        in this process share one fallback call."""
        ns = namespace or self.namespace
        with self._loads_lock:
            lock = self._loads.setdefault((ns, key), threading.Lock())
        with lock:
            item = self.get(key, namespace=ns)
            if item:
                return item.value
            value = as_bytes(fallback())
            self.set(key, value, namespace=ns, **write)
            return value

    def watch_stats(
        self, *, interval: Seconds | None = None, namespaces: list[str] | None = None, hot_keys: int = 0
    ) -> Iterator[cache_pb2.WatchStatsResponse]:
        """Statistics snapshots as they arrive; stop by leaving the loop."""
        stream = self.rpc.WatchStats(watch_request(interval, namespaces, hot_keys))
        try:
            yield from stream
        except grpc.RpcError as error:
            raise CacheError.from_rpc(error) from None
        finally:
            stream.cancel()

    def inspect(self, request: cache_pb2.InspectRequest, *, timeout: float | None = None) -> cache_pb2.InspectResponse:
        return self._call(self.rpc.Inspect, request, timeout)


class _CallDetails(
    namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the authorization entry to every call's metadata."""

    def __init__(self, header: tuple[str, str]):
        self._header = header

    def __repr__(self) -> str:
        return "_Bearer(<redacted>)"  # never the token

    def _details(self, details: grpc.ClientCallDetails) -> _CallDetails:
        return _CallDetails(
            details.method,
            details.timeout,
            [*(details.metadata or ()), self._header],
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._details(details), request)
