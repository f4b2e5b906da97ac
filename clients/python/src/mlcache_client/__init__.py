"""MultilayerCache client: CacheClient (blocking) and AsyncCacheClient (asyncio), on the code
generated from proto/mlcache/v1 (the `mlcache.v1` package)."""

from mlcache.v1.cache_pb2 import InspectRequest
from mlcache.v1.common_pb2 import Item

from ._aio import AsyncCacheClient
from ._common import TLS, CacheError, Retry
from ._sync import CacheClient

__all__ = ["TLS", "AsyncCacheClient", "CacheClient", "CacheError", "InspectRequest", "Item", "Retry"]
