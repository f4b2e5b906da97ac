import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mlcache.v1 import common_pb2 as _common_pb2
from mlcache.v1 import policy_pb2 as _policy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InvalidationCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVALIDATION_CAUSE_UNSPECIFIED: _ClassVar[InvalidationCause]
    INVALIDATION_CAUSE_INVALIDATE: _ClassVar[InvalidationCause]
    INVALIDATION_CAUSE_SET: _ClassVar[InvalidationCause]
    INVALIDATION_CAUSE_EXTERNAL: _ClassVar[InvalidationCause]
    INVALIDATION_CAUSE_ADJUST_TTL: _ClassVar[InvalidationCause]

class DeadLetterKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_KIND_UNSPECIFIED: _ClassVar[DeadLetterKind]
    DEAD_LETTER_KIND_LOAD: _ClassVar[DeadLetterKind]
    DEAD_LETTER_KIND_WRITE: _ClassVar[DeadLetterKind]
INVALIDATION_CAUSE_UNSPECIFIED: InvalidationCause
INVALIDATION_CAUSE_INVALIDATE: InvalidationCause
INVALIDATION_CAUSE_SET: InvalidationCause
INVALIDATION_CAUSE_EXTERNAL: InvalidationCause
INVALIDATION_CAUSE_ADJUST_TTL: InvalidationCause
DEAD_LETTER_KIND_UNSPECIFIED: DeadLetterKind
DEAD_LETTER_KIND_LOAD: DeadLetterKind
DEAD_LETTER_KIND_WRITE: DeadLetterKind

class InvalidationEvent(_message.Message):
    __slots__ = ("namespace", "keys", "tags", "prefix", "version", "origin_instance", "time", "cause", "event_id", "ttl_adjustment")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    prefix: str
    version: int
    origin_instance: str
    time: _timestamp_pb2.Timestamp
    cause: InvalidationCause
    event_id: str
    ttl_adjustment: TtlAdjustment
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., prefix: _Optional[str] = ..., version: _Optional[int] = ..., origin_instance: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause: _Optional[_Union[InvalidationCause, str]] = ..., event_id: _Optional[str] = ..., ttl_adjustment: _Optional[_Union[TtlAdjustment, _Mapping]] = ...) -> None: ...

class TtlAdjustment(_message.Message):
    __slots__ = ("ttl", "layer")
    TTL_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    ttl: _duration_pb2.Duration
    layer: _common_pb2.CacheLayer
    def __init__(self, ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., layer: _Optional[_Union[_common_pb2.CacheLayer, str]] = ...) -> None: ...

class WriteEvent(_message.Message):
    __slots__ = ("namespace", "key", "value", "version", "tags", "deleted", "ttl", "origin_instance", "time", "event_id", "encryption_key_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    value: bytes
    version: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    deleted: bool
    ttl: _duration_pb2.Duration
    origin_instance: str
    time: _timestamp_pb2.Timestamp
    event_id: str
    encryption_key_id: str
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ..., version: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., deleted: _Optional[bool] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., origin_instance: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_id: _Optional[str] = ..., encryption_key_id: _Optional[str] = ...) -> None: ...

class DeadLetterEvent(_message.Message):
    __slots__ = ("kind", "namespace", "key", "last_error", "failures", "first_failure", "last_failure", "origin_instance", "write")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    WRITE_FIELD_NUMBER: _ClassVar[int]
    kind: DeadLetterKind
    namespace: str
    key: str
    last_error: str
    failures: int
    first_failure: _timestamp_pb2.Timestamp
    last_failure: _timestamp_pb2.Timestamp
    origin_instance: str
    write: WriteEvent
    def __init__(self, kind: _Optional[_Union[DeadLetterKind, str]] = ..., namespace: _Optional[str] = ..., key: _Optional[str] = ..., last_error: _Optional[str] = ..., failures: _Optional[int] = ..., first_failure: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., origin_instance: _Optional[str] = ..., write: _Optional[_Union[WriteEvent, _Mapping]] = ...) -> None: ...

class PolicyEvent(_message.Message):
    __slots__ = ("namespace", "policy", "reset", "origin_instance", "time", "event_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    policy: _policy_pb2.NamespacePolicy
    reset: bool
    origin_instance: str
    time: _timestamp_pb2.Timestamp
    event_id: str
    def __init__(self, namespace: _Optional[str] = ..., policy: _Optional[_Union[_policy_pb2.NamespacePolicy, _Mapping]] = ..., reset: _Optional[bool] = ..., origin_instance: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_id: _Optional[str] = ...) -> None: ...
