import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from mlcache.v1 import common_pb2 as _common_pb2
from mlcache.v1 import policy_pb2 as _policy_pb2
from mlcache.v1 import stats_pb2 as _stats_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdjustTtlRequest(_message.Message):
    __slots__ = ("namespace", "keys", "ttl", "layer")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    ttl: _duration_pb2.Duration
    layer: _common_pb2.CacheLayer
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., layer: _Optional[_Union[_common_pb2.CacheLayer, str]] = ...) -> None: ...

class AdjustTtlResponse(_message.Message):
    __slots__ = ("l1_adjusted", "l2_adjusted", "published")
    L1_ADJUSTED_FIELD_NUMBER: _ClassVar[int]
    L2_ADJUSTED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    l1_adjusted: int
    l2_adjusted: int
    published: bool
    def __init__(self, l1_adjusted: _Optional[int] = ..., l2_adjusted: _Optional[int] = ..., published: _Optional[bool] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy", "customized")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMIZED_FIELD_NUMBER: _ClassVar[int]
    policy: _policy_pb2.NamespacePolicy
    customized: bool
    def __init__(self, policy: _Optional[_Union[_policy_pb2.NamespacePolicy, _Mapping]] = ..., customized: _Optional[bool] = ...) -> None: ...

class UpdatePolicyRequest(_message.Message):
    __slots__ = ("policy", "update_mask")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    policy: _policy_pb2.NamespacePolicy
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, policy: _Optional[_Union[_policy_pb2.NamespacePolicy, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdatePolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _policy_pb2.NamespacePolicy
    def __init__(self, policy: _Optional[_Union[_policy_pb2.NamespacePolicy, _Mapping]] = ...) -> None: ...

class ResetPolicyRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class ResetPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _policy_pb2.NamespacePolicy
    def __init__(self, policy: _Optional[_Union[_policy_pb2.NamespacePolicy, _Mapping]] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NamespaceSummary(_message.Message):
    __slots__ = ("name", "customized", "l1_entries", "l1_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMIZED_FIELD_NUMBER: _ClassVar[int]
    L1_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    L1_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    customized: bool
    l1_entries: int
    l1_bytes: int
    def __init__(self, name: _Optional[str] = ..., customized: _Optional[bool] = ..., l1_entries: _Optional[int] = ..., l1_bytes: _Optional[int] = ...) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ("namespaces",)
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[NamespaceSummary]
    def __init__(self, namespaces: _Optional[_Iterable[_Union[NamespaceSummary, _Mapping]]] = ...) -> None: ...

class ExportStatsRequest(_message.Message):
    __slots__ = ("namespaces", "max_keys")
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    MAX_KEYS_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    max_keys: int
    def __init__(self, namespaces: _Optional[_Iterable[str]] = ..., max_keys: _Optional[int] = ...) -> None: ...

class ExportStatsResponse(_message.Message):
    __slots__ = ("ndjson",)
    NDJSON_FIELD_NUMBER: _ClassVar[int]
    ndjson: bytes
    def __init__(self, ndjson: _Optional[bytes] = ...) -> None: ...

class AdviseRequest(_message.Message):
    __slots__ = ("namespace", "apply", "revert")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    APPLY_FIELD_NUMBER: _ClassVar[int]
    REVERT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    apply: bool
    revert: bool
    def __init__(self, namespace: _Optional[str] = ..., apply: _Optional[bool] = ..., revert: _Optional[bool] = ...) -> None: ...

class FamilyAdvice(_message.Message):
    __slots__ = ("family", "pattern", "keys", "counts", "evidence", "advice")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ADVICE_FIELD_NUMBER: _ClassVar[int]
    family: str
    pattern: _stats_pb2.UsagePattern
    keys: int
    counts: _containers.RepeatedCompositeFieldContainer[PatternCount]
    evidence: _stats_pb2.UsageEvidence
    advice: _stats_pb2.TtlAdvice
    def __init__(self, family: _Optional[str] = ..., pattern: _Optional[_Union[_stats_pb2.UsagePattern, str]] = ..., keys: _Optional[int] = ..., counts: _Optional[_Iterable[_Union[PatternCount, _Mapping]]] = ..., evidence: _Optional[_Union[_stats_pb2.UsageEvidence, _Mapping]] = ..., advice: _Optional[_Union[_stats_pb2.TtlAdvice, _Mapping]] = ...) -> None: ...

class PatternCount(_message.Message):
    __slots__ = ("pattern", "keys")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    pattern: _stats_pb2.UsagePattern
    keys: int
    def __init__(self, pattern: _Optional[_Union[_stats_pb2.UsagePattern, str]] = ..., keys: _Optional[int] = ...) -> None: ...

class ProposedRule(_message.Message):
    __slots__ = ("name", "exact", "prefix", "glob", "pattern", "ttl", "fresh_for", "early_refresh", "admit", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    GLOB_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    FRESH_FOR_FIELD_NUMBER: _ClassVar[int]
    EARLY_REFRESH_FIELD_NUMBER: _ClassVar[int]
    ADMIT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    exact: str
    prefix: str
    glob: str
    pattern: _stats_pb2.UsagePattern
    ttl: _duration_pb2.Duration
    fresh_for: _duration_pb2.Duration
    early_refresh: bool
    admit: bool
    reason: str
    def __init__(self, name: _Optional[str] = ..., exact: _Optional[str] = ..., prefix: _Optional[str] = ..., glob: _Optional[str] = ..., pattern: _Optional[_Union[_stats_pb2.UsagePattern, str]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., fresh_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., early_refresh: _Optional[bool] = ..., admit: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class AdviseResponse(_message.Message):
    __slots__ = ("namespace", "sampled_keys", "families", "rules", "current_ttl", "current_fresh_for", "current_early_refresh", "load_latency", "min_ttl", "max_ttl", "rules_applied", "rules_removed")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_KEYS_FIELD_NUMBER: _ClassVar[int]
    FAMILIES_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TTL_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FRESH_FOR_FIELD_NUMBER: _ClassVar[int]
    CURRENT_EARLY_REFRESH_FIELD_NUMBER: _ClassVar[int]
    LOAD_LATENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_TTL_FIELD_NUMBER: _ClassVar[int]
    MAX_TTL_FIELD_NUMBER: _ClassVar[int]
    RULES_APPLIED_FIELD_NUMBER: _ClassVar[int]
    RULES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    sampled_keys: int
    families: _containers.RepeatedCompositeFieldContainer[FamilyAdvice]
    rules: _containers.RepeatedCompositeFieldContainer[ProposedRule]
    current_ttl: _duration_pb2.Duration
    current_fresh_for: _duration_pb2.Duration
    current_early_refresh: bool
    load_latency: _duration_pb2.Duration
    min_ttl: _duration_pb2.Duration
    max_ttl: _duration_pb2.Duration
    rules_applied: int
    rules_removed: int
    def __init__(self, namespace: _Optional[str] = ..., sampled_keys: _Optional[int] = ..., families: _Optional[_Iterable[_Union[FamilyAdvice, _Mapping]]] = ..., rules: _Optional[_Iterable[_Union[ProposedRule, _Mapping]]] = ..., current_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., current_fresh_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., current_early_refresh: _Optional[bool] = ..., load_latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., min_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rules_applied: _Optional[int] = ..., rules_removed: _Optional[int] = ...) -> None: ...
