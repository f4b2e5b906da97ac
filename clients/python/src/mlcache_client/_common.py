"""Request building, errors and retry settings shared by the sync and asyncio clients."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Union

import grpc
from google.protobuf.duration_pb2 import Duration

from mlcache.v1 import cache_pb2, common_pb2

Value = Union[bytes, str]
Seconds = Union[float, timedelta]


class CacheError(Exception):
    """A failed call: `code` is the gRPC status code (grpc.StatusCode.INVALID_ARGUMENT, …)."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> "CacheError":
        return cls(error.code(), error.details() or "")  # type: ignore[attr-defined]


_CODES = {code.value[0]: code for code in grpc.StatusCode}


def key_error(error: common_pb2.KeyError) -> CacheError:
    return CacheError(_CODES.get(error.code, grpc.StatusCode.UNKNOWN), error.message)


@dataclass(frozen=True)
class Retry:
    """How UNAVAILABLE calls are retried (gRPC's own retries): attempts in total, backoff in s."""

    max_attempts: int = 3
    initial_backoff: float = 0.05
    max_backoff: float = 1.0

    def channel_options(self) -> list[tuple[str, object]]:
        if self.max_attempts < 2:
            return [("grpc.enable_retries", 0)]
        config = {
            "methodConfig": [
                {
                    "name": [{"service": "mlcache.v1.CacheService"}],
                    "retryPolicy": {
                        "maxAttempts": self.max_attempts,
                        "initialBackoff": f"{self.initial_backoff}s",
                        "maxBackoff": f"{self.max_backoff}s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
        return [("grpc.enable_retries", 1), ("grpc.service_config", json.dumps(config))]


PEM = Union[bytes, str, "os.PathLike[str]"]


@dataclass(frozen=True)
class TLS:
    """TLS to the server: `ca` the CAs to trust (default: the system's roots), `cert` and `key` a
    client certificate for mutual TLS. Each is PEM bytes, or the path of a PEM file (str or Path).

    CacheClient("cache.internal:50051", token=token, tls=TLS(ca="ca.pem"))
    """

    ca: PEM | None = None
    cert: PEM | None = None
    key: PEM | None = None

    def channel_credentials(self) -> grpc.ChannelCredentials:
        if (self.cert is None) != (self.key is None):
            raise ValueError("TLS: cert and key go together")
        return grpc.ssl_channel_credentials(
            root_certificates=_pem(self.ca), private_key=_pem(self.key), certificate_chain=_pem(self.cert)
        )


def _pem(value: PEM | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def channel_credentials(
    tls: TLS | None, credentials: grpc.ChannelCredentials | None
) -> grpc.ChannelCredentials | None:
    """The channel's credentials: from `tls`, or given as they are; None for plaintext."""
    if tls is not None and credentials is not None:
        raise ValueError("give tls or credentials, not both")
    return tls.channel_credentials() if tls is not None else credentials


_TOKEN = re.compile(r"[!-~]+")


def authorization(token: str) -> tuple[str, str]:
    """The metadata entry of a bearer token."""
    # Printable ASCII without spaces: what metadata carries intact and the server reads as one
    # token. The error does not repeat the token.
    if not _TOKEN.fullmatch(token):
        raise ValueError("a bearer token must be printable ASCII without spaces")
    return ("authorization", f"Bearer {token}")


def duration(value: Seconds) -> Duration:
    d = Duration()
    d.FromTimedelta(value if isinstance(value, timedelta) else timedelta(seconds=value))
    return d


def as_bytes(value: Value) -> bytes:
    return value.encode() if isinstance(value, str) else value


def read_options(
    *,
    skip_loader: bool = False,
    force_refresh: bool = False,
    allow_stale: bool | None = None,
    max_age: Seconds | None = None,
) -> cache_pb2.ReadOptions:
    options = cache_pb2.ReadOptions(skip_loader=skip_loader, force_refresh=force_refresh)
    if allow_stale is not None:
        options.allow_stale = allow_stale
    if max_age is not None:
        options.max_age.CopyFrom(duration(max_age))
    return options


def set_request(
    namespace: str,
    key: str,
    value: Value,
    *,
    ttl: Seconds | None = None,
    fresh_for: Seconds | None = None,
    tags: list[str] | None = None,
    version: int = 0,
    write_mode: int = common_pb2.WRITE_MODE_UNSPECIFIED,
) -> cache_pb2.SetRequest:
    request = cache_pb2.SetRequest(
        namespace=namespace, key=key, value=as_bytes(value), tags=tags or [], version=version, write_mode=write_mode
    )
    if ttl is not None:
        request.ttl.CopyFrom(duration(ttl))
    if fresh_for is not None:
        request.fresh_for.CopyFrom(duration(fresh_for))
    return request


def invalidate_request(
    namespace: str, keys: list[str] | None, tags: list[str] | None, prefix: str | None
) -> cache_pb2.InvalidateRequest:
    request = cache_pb2.InvalidateRequest(namespace=namespace, keys=keys or [], tags=tags or [])
    if prefix is not None:
        request.prefix = prefix
    return request


def watch_request(interval: Seconds | None, namespaces: list[str] | None, hot_keys: int) -> cache_pb2.WatchStatsRequest:
    request = cache_pb2.WatchStatsRequest(namespaces=namespaces or [], hot_keys=hot_keys)
    if interval is not None:
        request.interval.CopyFrom(duration(interval))
    return request


def bulk_results(response: cache_pb2.BulkGetResponse) -> dict[str, common_pb2.Item | None | CacheError]:
    out: dict[str, common_pb2.Item | None | CacheError] = {}
    for result in response.results:
        if result.WhichOneof("outcome") == "error":
            out[result.key] = key_error(result.error)
        else:
            out[result.key] = result.item if result.item.found else None
    return out
