import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_UNSPECIFIED: _ClassVar[Source]
    SOURCE_L1: _ClassVar[Source]
    SOURCE_L2: _ClassVar[Source]
    SOURCE_LOADER: _ClassVar[Source]
    SOURCE_FALLBACK: _ClassVar[Source]

class CacheLayer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_LAYER_UNSPECIFIED: _ClassVar[CacheLayer]
    CACHE_LAYER_L1: _ClassVar[CacheLayer]
    CACHE_LAYER_L2: _ClassVar[CacheLayer]

class WriteMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WRITE_MODE_UNSPECIFIED: _ClassVar[WriteMode]
    WRITE_MODE_CACHE_ONLY: _ClassVar[WriteMode]
    WRITE_MODE_WRITE_THROUGH: _ClassVar[WriteMode]
    WRITE_MODE_WRITE_BEHIND: _ClassVar[WriteMode]

class BreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREAKER_STATE_UNSPECIFIED: _ClassVar[BreakerState]
    BREAKER_STATE_CLOSED: _ClassVar[BreakerState]
    BREAKER_STATE_OPEN: _ClassVar[BreakerState]
    BREAKER_STATE_HALF_OPEN: _ClassVar[BreakerState]
SOURCE_UNSPECIFIED: Source
SOURCE_L1: Source
SOURCE_L2: Source
SOURCE_LOADER: Source
SOURCE_FALLBACK: Source
CACHE_LAYER_UNSPECIFIED: CacheLayer
CACHE_LAYER_L1: CacheLayer
CACHE_LAYER_L2: CacheLayer
WRITE_MODE_UNSPECIFIED: WriteMode
WRITE_MODE_CACHE_ONLY: WriteMode
WRITE_MODE_WRITE_THROUGH: WriteMode
WRITE_MODE_WRITE_BEHIND: WriteMode
BREAKER_STATE_UNSPECIFIED: BreakerState
BREAKER_STATE_CLOSED: BreakerState
BREAKER_STATE_OPEN: BreakerState
BREAKER_STATE_HALF_OPEN: BreakerState

class KeyError(_message.Message):
    __slots__ = ("code", "message", "breaker_state")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    breaker_state: BreakerState
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., breaker_state: _Optional[_Union[BreakerState, str]] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ("key", "found", "value", "source", "stale", "age", "ttl_remaining", "version", "tags")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    TTL_REMAINING_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    key: str
    found: bool
    value: bytes
    source: Source
    stale: bool
    age: _duration_pb2.Duration
    ttl_remaining: _duration_pb2.Duration
    version: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., found: _Optional[bool] = ..., value: _Optional[bytes] = ..., source: _Optional[_Union[Source, str]] = ..., stale: _Optional[bool] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ttl_remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., version: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...
