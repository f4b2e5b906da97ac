import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from mlcache.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PromotionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROMOTION_MODE_UNSPECIFIED: _ClassVar[PromotionMode]
    PROMOTION_MODE_ALWAYS: _ClassVar[PromotionMode]
    PROMOTION_MODE_NEVER: _ClassVar[PromotionMode]
    PROMOTION_MODE_AFTER_HITS: _ClassVar[PromotionMode]
    PROMOTION_MODE_ADMISSION: _ClassVar[PromotionMode]
PROMOTION_MODE_UNSPECIFIED: PromotionMode
PROMOTION_MODE_ALWAYS: PromotionMode
PROMOTION_MODE_NEVER: PromotionMode
PROMOTION_MODE_AFTER_HITS: PromotionMode
PROMOTION_MODE_ADMISSION: PromotionMode

class NamespacePolicy(_message.Message):
    __slots__ = ("namespace", "l1", "l2", "fail_safe", "early_refresh", "adaptive_ttl", "priority_refresh", "loader", "writer", "write_mode", "promotion", "max_value_bytes", "encryption_key_id", "fallback", "negative_ttl", "max_ttl", "rules")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    L1_FIELD_NUMBER: _ClassVar[int]
    L2_FIELD_NUMBER: _ClassVar[int]
    FAIL_SAFE_FIELD_NUMBER: _ClassVar[int]
    EARLY_REFRESH_FIELD_NUMBER: _ClassVar[int]
    ADAPTIVE_TTL_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_REFRESH_FIELD_NUMBER: _ClassVar[int]
    LOADER_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    WRITE_MODE_FIELD_NUMBER: _ClassVar[int]
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_TTL_FIELD_NUMBER: _ClassVar[int]
    MAX_TTL_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    l1: LayerPolicy
    l2: LayerPolicy
    fail_safe: FailSafePolicy
    early_refresh: EarlyRefreshPolicy
    adaptive_ttl: AdaptiveTtlPolicy
    priority_refresh: PriorityRefreshPolicy
    loader: OriginPolicy
    writer: OriginPolicy
    write_mode: _common_pb2.WriteMode
    promotion: PromotionPolicy
    max_value_bytes: int
    encryption_key_id: str
    fallback: FallbackPolicy
    negative_ttl: _duration_pb2.Duration
    max_ttl: _duration_pb2.Duration
    rules: _containers.RepeatedCompositeFieldContainer[KeyRule]
    def __init__(self, namespace: _Optional[str] = ..., l1: _Optional[_Union[LayerPolicy, _Mapping]] = ..., l2: _Optional[_Union[LayerPolicy, _Mapping]] = ..., fail_safe: _Optional[_Union[FailSafePolicy, _Mapping]] = ..., early_refresh: _Optional[_Union[EarlyRefreshPolicy, _Mapping]] = ..., adaptive_ttl: _Optional[_Union[AdaptiveTtlPolicy, _Mapping]] = ..., priority_refresh: _Optional[_Union[PriorityRefreshPolicy, _Mapping]] = ..., loader: _Optional[_Union[OriginPolicy, _Mapping]] = ..., writer: _Optional[_Union[OriginPolicy, _Mapping]] = ..., write_mode: _Optional[_Union[_common_pb2.WriteMode, str]] = ..., promotion: _Optional[_Union[PromotionPolicy, _Mapping]] = ..., max_value_bytes: _Optional[int] = ..., encryption_key_id: _Optional[str] = ..., fallback: _Optional[_Union[FallbackPolicy, _Mapping]] = ..., negative_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[KeyRule, _Mapping]]] = ...) -> None: ...

class KeyRule(_message.Message):
    __slots__ = ("name", "exact", "prefix", "glob", "overrides")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    GLOB_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    name: str
    exact: str
    prefix: str
    glob: str
    overrides: NamespacePolicy
    def __init__(self, name: _Optional[str] = ..., exact: _Optional[str] = ..., prefix: _Optional[str] = ..., glob: _Optional[str] = ..., overrides: _Optional[_Union[NamespacePolicy, _Mapping]] = ...) -> None: ...

class LayerPolicy(_message.Message):
    __slots__ = ("enabled", "ttl", "fresh_for", "jitter", "stale_while_revalidate", "admission")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    FRESH_FOR_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    STALE_WHILE_REVALIDATE_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    ttl: _duration_pb2.Duration
    fresh_for: _duration_pb2.Duration
    jitter: float
    stale_while_revalidate: _duration_pb2.Duration
    admission: bool
    def __init__(self, enabled: _Optional[bool] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., fresh_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., jitter: _Optional[float] = ..., stale_while_revalidate: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., admission: _Optional[bool] = ...) -> None: ...

class FailSafePolicy(_message.Message):
    __slots__ = ("enabled", "max_stale", "throttle")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_STALE_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    max_stale: _duration_pb2.Duration
    throttle: _duration_pb2.Duration
    def __init__(self, enabled: _Optional[bool] = ..., max_stale: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., throttle: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class EarlyRefreshPolicy(_message.Message):
    __slots__ = ("enabled", "beta")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    beta: float
    def __init__(self, enabled: _Optional[bool] = ..., beta: _Optional[float] = ...) -> None: ...

class AdaptiveTtlPolicy(_message.Message):
    __slots__ = ("enabled", "min_ttl", "max_ttl")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MIN_TTL_FIELD_NUMBER: _ClassVar[int]
    MAX_TTL_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    min_ttl: _duration_pb2.Duration
    max_ttl: _duration_pb2.Duration
    def __init__(self, enabled: _Optional[bool] = ..., min_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PriorityRefreshPolicy(_message.Message):
    __slots__ = ("enabled", "top_keys", "max_concurrent", "max_per_second")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    TOP_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_FIELD_NUMBER: _ClassVar[int]
    MAX_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    top_keys: int
    max_concurrent: int
    max_per_second: float
    def __init__(self, enabled: _Optional[bool] = ..., top_keys: _Optional[int] = ..., max_concurrent: _Optional[int] = ..., max_per_second: _Optional[float] = ...) -> None: ...

class PromotionPolicy(_message.Message):
    __slots__ = ("min_frequency", "mode", "window")
    MIN_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    min_frequency: int
    mode: PromotionMode
    window: _duration_pb2.Duration
    def __init__(self, min_frequency: _Optional[int] = ..., mode: _Optional[_Union[PromotionMode, str]] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class OriginPolicy(_message.Message):
    __slots__ = ("grpc", "http", "breaker", "retry", "soft_timeout", "hard_timeout", "max_concurrency", "rate_limit", "refresh_throttle", "batch", "dead_letter")
    GRPC_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    BREAKER_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    SOFT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    HARD_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    REFRESH_THROTTLE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    grpc: GrpcOrigin
    http: HttpOrigin
    breaker: BreakerPolicy
    retry: RetryPolicy
    soft_timeout: _duration_pb2.Duration
    hard_timeout: _duration_pb2.Duration
    max_concurrency: int
    rate_limit: RateLimitPolicy
    refresh_throttle: _duration_pb2.Duration
    batch: BatchPolicy
    dead_letter: DeadLetterPolicy
    def __init__(self, grpc: _Optional[_Union[GrpcOrigin, _Mapping]] = ..., http: _Optional[_Union[HttpOrigin, _Mapping]] = ..., breaker: _Optional[_Union[BreakerPolicy, _Mapping]] = ..., retry: _Optional[_Union[RetryPolicy, _Mapping]] = ..., soft_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., hard_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_concurrency: _Optional[int] = ..., rate_limit: _Optional[_Union[RateLimitPolicy, _Mapping]] = ..., refresh_throttle: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., batch: _Optional[_Union[BatchPolicy, _Mapping]] = ..., dead_letter: _Optional[_Union[DeadLetterPolicy, _Mapping]] = ...) -> None: ...

class GrpcOrigin(_message.Message):
    __slots__ = ("target", "tls", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    target: str
    tls: bool
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, target: _Optional[str] = ..., tls: _Optional[bool] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class HttpOrigin(_message.Message):
    __slots__ = ("url_template", "headers", "bulk_url", "write_method", "not_found_statuses")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BULK_URL_FIELD_NUMBER: _ClassVar[int]
    WRITE_METHOD_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_STATUSES_FIELD_NUMBER: _ClassVar[int]
    url_template: str
    headers: _containers.ScalarMap[str, str]
    bulk_url: str
    write_method: str
    not_found_statuses: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, url_template: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., bulk_url: _Optional[str] = ..., write_method: _Optional[str] = ..., not_found_statuses: _Optional[_Iterable[int]] = ...) -> None: ...

class BreakerPolicy(_message.Message):
    __slots__ = ("enabled", "error_threshold_percent", "volume_threshold", "reset_timeout", "rolling_window")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ERROR_THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    RESET_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ROLLING_WINDOW_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    error_threshold_percent: int
    volume_threshold: int
    reset_timeout: _duration_pb2.Duration
    rolling_window: _duration_pb2.Duration
    def __init__(self, enabled: _Optional[bool] = ..., error_threshold_percent: _Optional[int] = ..., volume_threshold: _Optional[int] = ..., reset_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rolling_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("max_attempts", "initial_backoff", "max_backoff")
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    max_attempts: int
    initial_backoff: _duration_pb2.Duration
    max_backoff: _duration_pb2.Duration
    def __init__(self, max_attempts: _Optional[int] = ..., initial_backoff: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_backoff: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RateLimitPolicy(_message.Message):
    __slots__ = ("per_second", "burst")
    PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    per_second: float
    burst: int
    def __init__(self, per_second: _Optional[float] = ..., burst: _Optional[int] = ...) -> None: ...

class BatchPolicy(_message.Message):
    __slots__ = ("enabled", "window", "max_batch_size")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    window: _duration_pb2.Duration
    max_batch_size: int
    def __init__(self, enabled: _Optional[bool] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_batch_size: _Optional[int] = ...) -> None: ...

class DeadLetterPolicy(_message.Message):
    __slots__ = ("max_failures", "window")
    MAX_FAILURES_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    max_failures: int
    window: _duration_pb2.Duration
    def __init__(self, max_failures: _Optional[int] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class FallbackPolicy(_message.Message):
    __slots__ = ("value", "grpc")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    GRPC_FIELD_NUMBER: _ClassVar[int]
    value: bytes
    grpc: GrpcOrigin
    def __init__(self, value: _Optional[bytes] = ..., grpc: _Optional[_Union[GrpcOrigin, _Mapping]] = ...) -> None: ...
