import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mlcache.v1 import common_pb2 as _common_pb2
from mlcache.v1 import stats_pb2 as _stats_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReadOptions(_message.Message):
    __slots__ = ("allow_stale", "max_age", "bypass_layers", "skip_loader", "force_refresh")
    ALLOW_STALE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    BYPASS_LAYERS_FIELD_NUMBER: _ClassVar[int]
    SKIP_LOADER_FIELD_NUMBER: _ClassVar[int]
    FORCE_REFRESH_FIELD_NUMBER: _ClassVar[int]
    allow_stale: bool
    max_age: _duration_pb2.Duration
    bypass_layers: _containers.RepeatedScalarFieldContainer[_common_pb2.CacheLayer]
    skip_loader: bool
    force_refresh: bool
    def __init__(self, allow_stale: _Optional[bool] = ..., max_age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., bypass_layers: _Optional[_Iterable[_Union[_common_pb2.CacheLayer, str]]] = ..., skip_loader: _Optional[bool] = ..., force_refresh: _Optional[bool] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("namespace", "key", "options")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    options: ReadOptions
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., options: _Optional[_Union[ReadOptions, _Mapping]] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: _common_pb2.Item
    def __init__(self, item: _Optional[_Union[_common_pb2.Item, _Mapping]] = ...) -> None: ...

class BulkGetRequest(_message.Message):
    __slots__ = ("namespace", "keys", "options")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    options: ReadOptions
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[ReadOptions, _Mapping]] = ...) -> None: ...

class BulkGetResult(_message.Message):
    __slots__ = ("key", "item", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: str
    item: _common_pb2.Item
    error: _common_pb2.KeyError
    def __init__(self, key: _Optional[str] = ..., item: _Optional[_Union[_common_pb2.Item, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.KeyError, _Mapping]] = ...) -> None: ...

class BulkGetResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BulkGetResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BulkGetResult, _Mapping]]] = ...) -> None: ...

class SetRequest(_message.Message):
    __slots__ = ("namespace", "key", "value", "ttl", "fresh_for", "tags", "version", "write_mode")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    FRESH_FOR_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WRITE_MODE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    value: bytes
    ttl: _duration_pb2.Duration
    fresh_for: _duration_pb2.Duration
    tags: _containers.RepeatedScalarFieldContainer[str]
    version: int
    write_mode: _common_pb2.WriteMode
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., fresh_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ..., write_mode: _Optional[_Union[_common_pb2.WriteMode, str]] = ...) -> None: ...

class SetResponse(_message.Message):
    __slots__ = ("version", "applied", "write_mode")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    WRITE_MODE_FIELD_NUMBER: _ClassVar[int]
    version: int
    applied: bool
    write_mode: _common_pb2.WriteMode
    def __init__(self, version: _Optional[int] = ..., applied: _Optional[bool] = ..., write_mode: _Optional[_Union[_common_pb2.WriteMode, str]] = ...) -> None: ...

class InvalidateRequest(_message.Message):
    __slots__ = ("namespace", "keys", "tags", "prefix")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    prefix: str
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., prefix: _Optional[str] = ...) -> None: ...

class InvalidateResponse(_message.Message):
    __slots__ = ("keys_removed", "stamp", "published")
    KEYS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    STAMP_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    keys_removed: int
    stamp: _timestamp_pb2.Timestamp
    published: bool
    def __init__(self, keys_removed: _Optional[int] = ..., stamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., published: _Optional[bool] = ...) -> None: ...

class WatchStatsRequest(_message.Message):
    __slots__ = ("interval", "namespaces", "hot_keys")
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    HOT_KEYS_FIELD_NUMBER: _ClassVar[int]
    interval: _duration_pb2.Duration
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    hot_keys: int
    def __init__(self, interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., namespaces: _Optional[_Iterable[str]] = ..., hot_keys: _Optional[int] = ...) -> None: ...

class WatchStatsResponse(_message.Message):
    __slots__ = ("snapshot", "snapshots_dropped")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_DROPPED_FIELD_NUMBER: _ClassVar[int]
    snapshot: _stats_pb2.StatsSnapshot
    snapshots_dropped: int
    def __init__(self, snapshot: _Optional[_Union[_stats_pb2.StatsSnapshot, _Mapping]] = ..., snapshots_dropped: _Optional[int] = ...) -> None: ...

class InspectRequest(_message.Message):
    __slots__ = ("namespace", "keys", "hot_keys", "fleet_wide", "include_in_flight", "include_dead_letters", "per_layer")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    HOT_KEYS_FIELD_NUMBER: _ClassVar[int]
    FLEET_WIDE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    PER_LAYER_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    hot_keys: int
    fleet_wide: bool
    include_in_flight: bool
    include_dead_letters: bool
    per_layer: bool
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., hot_keys: _Optional[int] = ..., fleet_wide: _Optional[bool] = ..., include_in_flight: _Optional[bool] = ..., include_dead_letters: _Optional[bool] = ..., per_layer: _Optional[bool] = ...) -> None: ...

class InspectResponse(_message.Message):
    __slots__ = ("hot_keys", "key_stats", "in_flight", "dead_letters", "layer_hot_keys")
    HOT_KEYS_FIELD_NUMBER: _ClassVar[int]
    KEY_STATS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    LAYER_HOT_KEYS_FIELD_NUMBER: _ClassVar[int]
    hot_keys: _containers.RepeatedCompositeFieldContainer[_stats_pb2.HotKey]
    key_stats: _containers.RepeatedCompositeFieldContainer[_stats_pb2.KeyStats]
    in_flight: _containers.RepeatedCompositeFieldContainer[_stats_pb2.InFlightLoad]
    dead_letters: _containers.RepeatedCompositeFieldContainer[_stats_pb2.DeadLetter]
    layer_hot_keys: _containers.RepeatedCompositeFieldContainer[_stats_pb2.LayerHotKeys]
    def __init__(self, hot_keys: _Optional[_Iterable[_Union[_stats_pb2.HotKey, _Mapping]]] = ..., key_stats: _Optional[_Iterable[_Union[_stats_pb2.KeyStats, _Mapping]]] = ..., in_flight: _Optional[_Iterable[_Union[_stats_pb2.InFlightLoad, _Mapping]]] = ..., dead_letters: _Optional[_Iterable[_Union[_stats_pb2.DeadLetter, _Mapping]]] = ..., layer_hot_keys: _Optional[_Iterable[_Union[_stats_pb2.LayerHotKeys, _Mapping]]] = ...) -> None: ...
