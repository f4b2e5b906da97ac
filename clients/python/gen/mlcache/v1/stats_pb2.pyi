import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mlcache.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class L1Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    L1_REASON_UNSPECIFIED: _ClassVar[L1Reason]
    L1_REASON_PRESENT: _ClassVar[L1Reason]
    L1_REASON_UNKNOWN: _ClassVar[L1Reason]
    L1_REASON_DISABLED: _ClassVar[L1Reason]
    L1_REASON_RULE_NEVER: _ClassVar[L1Reason]
    L1_REASON_BELOW_HITS: _ClassVar[L1Reason]
    L1_REASON_REJECTED_BY_ADMISSION: _ClassVar[L1Reason]
    L1_REASON_EVICTED: _ClassVar[L1Reason]
    L1_REASON_EXPIRED: _ClassVar[L1Reason]
    L1_REASON_REMOVED: _ClassVar[L1Reason]

class UsagePattern(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_PATTERN_UNSPECIFIED: _ClassVar[UsagePattern]
    USAGE_PATTERN_REGULAR: _ClassVar[UsagePattern]
    USAGE_PATTERN_BURSTY: _ClassVar[UsagePattern]
    USAGE_PATTERN_STEADY_HOT: _ClassVar[UsagePattern]
    USAGE_PATTERN_ONE_HIT: _ClassVar[UsagePattern]
    USAGE_PATTERN_DECLINING: _ClassVar[UsagePattern]
    USAGE_PATTERN_IRREGULAR: _ClassVar[UsagePattern]

class RefreshMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFRESH_MODE_UNSPECIFIED: _ClassVar[RefreshMode]
    REFRESH_MODE_NONE: _ClassVar[RefreshMode]
    REFRESH_MODE_AHEAD: _ClassVar[RefreshMode]
    REFRESH_MODE_EARLY: _ClassVar[RefreshMode]

class AnomalyKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANOMALY_KIND_UNSPECIFIED: _ClassVar[AnomalyKind]
    ANOMALY_KIND_HOT_KEY: _ClassVar[AnomalyKind]
    ANOMALY_KIND_REFRESH_SPIKE: _ClassVar[AnomalyKind]
    ANOMALY_KIND_LOAD_FAILURE_SPIKE: _ClassVar[AnomalyKind]
L1_REASON_UNSPECIFIED: L1Reason
L1_REASON_PRESENT: L1Reason
L1_REASON_UNKNOWN: L1Reason
L1_REASON_DISABLED: L1Reason
L1_REASON_RULE_NEVER: L1Reason
L1_REASON_BELOW_HITS: L1Reason
L1_REASON_REJECTED_BY_ADMISSION: L1Reason
L1_REASON_EVICTED: L1Reason
L1_REASON_EXPIRED: L1Reason
L1_REASON_REMOVED: L1Reason
USAGE_PATTERN_UNSPECIFIED: UsagePattern
USAGE_PATTERN_REGULAR: UsagePattern
USAGE_PATTERN_BURSTY: UsagePattern
USAGE_PATTERN_STEADY_HOT: UsagePattern
USAGE_PATTERN_ONE_HIT: UsagePattern
USAGE_PATTERN_DECLINING: UsagePattern
USAGE_PATTERN_IRREGULAR: UsagePattern
REFRESH_MODE_UNSPECIFIED: RefreshMode
REFRESH_MODE_NONE: RefreshMode
REFRESH_MODE_AHEAD: RefreshMode
REFRESH_MODE_EARLY: RefreshMode
ANOMALY_KIND_UNSPECIFIED: AnomalyKind
ANOMALY_KIND_HOT_KEY: AnomalyKind
ANOMALY_KIND_REFRESH_SPIKE: AnomalyKind
ANOMALY_KIND_LOAD_FAILURE_SPIKE: AnomalyKind

class StatsSnapshot(_message.Message):
    __slots__ = ("time", "instance_id", "namespaces", "dependencies", "anomalies")
    TIME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    ANOMALIES_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    instance_id: str
    namespaces: _containers.RepeatedCompositeFieldContainer[NamespaceStats]
    dependencies: _containers.RepeatedCompositeFieldContainer[DependencyStatus]
    anomalies: _containers.RepeatedCompositeFieldContainer[Anomaly]
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., instance_id: _Optional[str] = ..., namespaces: _Optional[_Iterable[_Union[NamespaceStats, _Mapping]]] = ..., dependencies: _Optional[_Iterable[_Union[DependencyStatus, _Mapping]]] = ..., anomalies: _Optional[_Iterable[_Union[Anomaly, _Mapping]]] = ...) -> None: ...

class NamespaceStats(_message.Message):
    __slots__ = ("namespace", "layers", "loads", "hot_keys", "requests", "stale_served", "fallback_served")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    LOADS_FIELD_NUMBER: _ClassVar[int]
    HOT_KEYS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    STALE_SERVED_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_SERVED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    layers: _containers.RepeatedCompositeFieldContainer[LayerStats]
    loads: LoadStats
    hot_keys: _containers.RepeatedCompositeFieldContainer[HotKey]
    requests: int
    stale_served: int
    fallback_served: int
    def __init__(self, namespace: _Optional[str] = ..., layers: _Optional[_Iterable[_Union[LayerStats, _Mapping]]] = ..., loads: _Optional[_Union[LoadStats, _Mapping]] = ..., hot_keys: _Optional[_Iterable[_Union[HotKey, _Mapping]]] = ..., requests: _Optional[int] = ..., stale_served: _Optional[int] = ..., fallback_served: _Optional[int] = ...) -> None: ...

class LayerStats(_message.Message):
    __slots__ = ("layer", "hits", "misses", "puts", "hit_ratio", "evictions", "entries", "bytes", "admission_rejections")
    LAYER_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    PUTS_FIELD_NUMBER: _ClassVar[int]
    HIT_RATIO_FIELD_NUMBER: _ClassVar[int]
    EVICTIONS_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    layer: _common_pb2.CacheLayer
    hits: int
    misses: int
    puts: int
    hit_ratio: float
    evictions: EvictionCounts
    entries: int
    bytes: int
    admission_rejections: int
    def __init__(self, layer: _Optional[_Union[_common_pb2.CacheLayer, str]] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., puts: _Optional[int] = ..., hit_ratio: _Optional[float] = ..., evictions: _Optional[_Union[EvictionCounts, _Mapping]] = ..., entries: _Optional[int] = ..., bytes: _Optional[int] = ..., admission_rejections: _Optional[int] = ...) -> None: ...

class EvictionCounts(_message.Message):
    __slots__ = ("size", "expired", "explicit", "replaced")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    EXPLICIT_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    size: int
    expired: int
    explicit: int
    replaced: int
    def __init__(self, size: _Optional[int] = ..., expired: _Optional[int] = ..., explicit: _Optional[int] = ..., replaced: _Optional[int] = ...) -> None: ...

class LoadStats(_message.Message):
    __slots__ = ("successes", "failures", "collapsed", "early_refreshes", "background_refreshes", "in_flight", "latency_p50", "latency_p95", "latency_p99", "breaker_state")
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    COLLAPSED_FIELD_NUMBER: _ClassVar[int]
    EARLY_REFRESHES_FIELD_NUMBER: _ClassVar[int]
    BACKGROUND_REFRESHES_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    successes: int
    failures: int
    collapsed: int
    early_refreshes: int
    background_refreshes: int
    in_flight: int
    latency_p50: _duration_pb2.Duration
    latency_p95: _duration_pb2.Duration
    latency_p99: _duration_pb2.Duration
    breaker_state: _common_pb2.BreakerState
    def __init__(self, successes: _Optional[int] = ..., failures: _Optional[int] = ..., collapsed: _Optional[int] = ..., early_refreshes: _Optional[int] = ..., background_refreshes: _Optional[int] = ..., in_flight: _Optional[int] = ..., latency_p50: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., latency_p95: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., latency_p99: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., breaker_state: _Optional[_Union[_common_pb2.BreakerState, str]] = ...) -> None: ...

class HotKey(_message.Message):
    __slots__ = ("namespace", "key", "frequency", "instances")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    frequency: int
    instances: int
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., frequency: _Optional[int] = ..., instances: _Optional[int] = ...) -> None: ...

class KeyLayerState(_message.Message):
    __slots__ = ("layer", "present", "stale", "age", "ttl_remaining", "version", "size_bytes")
    LAYER_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    TTL_REMAINING_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    layer: _common_pb2.CacheLayer
    present: bool
    stale: bool
    age: _duration_pb2.Duration
    ttl_remaining: _duration_pb2.Duration
    version: int
    size_bytes: int
    def __init__(self, layer: _Optional[_Union[_common_pb2.CacheLayer, str]] = ..., present: _Optional[bool] = ..., stale: _Optional[bool] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ttl_remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., version: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class KeyStats(_message.Message):
    __slots__ = ("namespace", "key", "layers", "hits", "misses", "frequency", "last_load_latency", "last_refresh", "l1_reason", "layer_frequencies", "rule", "usage")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    LAST_LOAD_LATENCY_FIELD_NUMBER: _ClassVar[int]
    LAST_REFRESH_FIELD_NUMBER: _ClassVar[int]
    L1_REASON_FIELD_NUMBER: _ClassVar[int]
    LAYER_FREQUENCIES_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    layers: _containers.RepeatedCompositeFieldContainer[KeyLayerState]
    hits: int
    misses: int
    frequency: int
    last_load_latency: _duration_pb2.Duration
    last_refresh: _timestamp_pb2.Timestamp
    l1_reason: L1Reason
    layer_frequencies: _containers.RepeatedCompositeFieldContainer[LayerFrequency]
    rule: str
    usage: KeyUsage
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., layers: _Optional[_Iterable[_Union[KeyLayerState, _Mapping]]] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., frequency: _Optional[int] = ..., last_load_latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., last_refresh: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., l1_reason: _Optional[_Union[L1Reason, str]] = ..., layer_frequencies: _Optional[_Iterable[_Union[LayerFrequency, _Mapping]]] = ..., rule: _Optional[str] = ..., usage: _Optional[_Union[KeyUsage, _Mapping]] = ...) -> None: ...

class LayerFrequency(_message.Message):
    __slots__ = ("layer", "estimate", "source")
    LAYER_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    layer: _common_pb2.CacheLayer
    estimate: int
    source: str
    def __init__(self, layer: _Optional[_Union[_common_pb2.CacheLayer, str]] = ..., estimate: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class LayerHotKeys(_message.Message):
    __slots__ = ("layer", "hot_keys")
    LAYER_FIELD_NUMBER: _ClassVar[int]
    HOT_KEYS_FIELD_NUMBER: _ClassVar[int]
    layer: _common_pb2.CacheLayer
    hot_keys: _containers.RepeatedCompositeFieldContainer[HotKey]
    def __init__(self, layer: _Optional[_Union[_common_pb2.CacheLayer, str]] = ..., hot_keys: _Optional[_Iterable[_Union[HotKey, _Mapping]]] = ...) -> None: ...

class UsageEvidence(_message.Message):
    __slots__ = ("samples", "arrivals", "rate_per_second", "mean_gap", "cv", "burstiness", "period", "burst_length", "burst_gap", "trend", "slowdown", "since_last")
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    ARRIVALS_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    MEAN_GAP_FIELD_NUMBER: _ClassVar[int]
    CV_FIELD_NUMBER: _ClassVar[int]
    BURSTINESS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    BURST_LENGTH_FIELD_NUMBER: _ClassVar[int]
    BURST_GAP_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    SLOWDOWN_FIELD_NUMBER: _ClassVar[int]
    SINCE_LAST_FIELD_NUMBER: _ClassVar[int]
    samples: int
    arrivals: int
    rate_per_second: float
    mean_gap: _duration_pb2.Duration
    cv: float
    burstiness: float
    period: _duration_pb2.Duration
    burst_length: _duration_pb2.Duration
    burst_gap: _duration_pb2.Duration
    trend: float
    slowdown: float
    since_last: _duration_pb2.Duration
    def __init__(self, samples: _Optional[int] = ..., arrivals: _Optional[int] = ..., rate_per_second: _Optional[float] = ..., mean_gap: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., cv: _Optional[float] = ..., burstiness: _Optional[float] = ..., period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., burst_length: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., burst_gap: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., trend: _Optional[float] = ..., slowdown: _Optional[float] = ..., since_last: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TtlAdvice(_message.Message):
    __slots__ = ("ttl", "fresh_for", "refresh", "admit", "reason", "clamped")
    TTL_FIELD_NUMBER: _ClassVar[int]
    FRESH_FOR_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    ADMIT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CLAMPED_FIELD_NUMBER: _ClassVar[int]
    ttl: _duration_pb2.Duration
    fresh_for: _duration_pb2.Duration
    refresh: RefreshMode
    admit: bool
    reason: str
    clamped: bool
    def __init__(self, ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., fresh_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., refresh: _Optional[_Union[RefreshMode, str]] = ..., admit: _Optional[bool] = ..., reason: _Optional[str] = ..., clamped: _Optional[bool] = ...) -> None: ...

class KeyUsage(_message.Message):
    __slots__ = ("pattern", "evidence", "advice")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ADVICE_FIELD_NUMBER: _ClassVar[int]
    pattern: UsagePattern
    evidence: UsageEvidence
    advice: TtlAdvice
    def __init__(self, pattern: _Optional[_Union[UsagePattern, str]] = ..., evidence: _Optional[_Union[UsageEvidence, _Mapping]] = ..., advice: _Optional[_Union[TtlAdvice, _Mapping]] = ...) -> None: ...

class InFlightLoad(_message.Message):
    __slots__ = ("namespace", "key", "started_at", "waiters")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    WAITERS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    started_at: _timestamp_pb2.Timestamp
    waiters: int
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., waiters: _Optional[int] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("namespace", "key", "last_error", "failures", "first_failure", "last_failure")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    last_error: str
    failures: int
    first_failure: _timestamp_pb2.Timestamp
    last_failure: _timestamp_pb2.Timestamp
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., last_error: _Optional[str] = ..., failures: _Optional[int] = ..., first_failure: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DependencyStatus(_message.Message):
    __slots__ = ("name", "up", "detail", "queued", "breaker_state", "consumer_lag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_LAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    up: bool
    detail: str
    queued: int
    breaker_state: _common_pb2.BreakerState
    consumer_lag: int
    def __init__(self, name: _Optional[str] = ..., up: _Optional[bool] = ..., detail: _Optional[str] = ..., queued: _Optional[int] = ..., breaker_state: _Optional[_Union[_common_pb2.BreakerState, str]] = ..., consumer_lag: _Optional[int] = ...) -> None: ...

class Anomaly(_message.Message):
    __slots__ = ("kind", "namespace", "key", "detected_at", "score", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: AnomalyKind
    namespace: str
    key: str
    detected_at: _timestamp_pb2.Timestamp
    score: float
    detail: str
    def __init__(self, kind: _Optional[_Union[AnomalyKind, str]] = ..., namespace: _Optional[str] = ..., key: _Optional[str] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., score: _Optional[float] = ..., detail: _Optional[str] = ...) -> None: ...
