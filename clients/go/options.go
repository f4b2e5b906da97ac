package mlcache

import (
	"encoding/json"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
)

type options struct {
	namespace   string
	timeout     time.Duration
	retry       RetryPolicy
	token       string
	tls         *TLS
	dialOptions []grpc.DialOption
}

// RetryPolicy is how UNAVAILABLE calls are retried (gRPC's own retries, set through the
// service config): attempts in total, and exponential backoff between them.
type RetryPolicy struct {
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func defaults() options {
	return options{
		timeout: 5 * time.Second,
		retry:   RetryPolicy{MaxAttempts: 3, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second},
	}
}

// serviceConfig turns the retry policy into a gRPC service config.
func (o options) serviceConfig() string {
	if o.retry.MaxAttempts < 2 {
		return `{}`
	}
	config := map[string]any{"methodConfig": []any{map[string]any{
		"name": []any{map[string]any{"service": "mlcache.v1.CacheService"}},
		"retryPolicy": map[string]any{
			"maxAttempts":          o.retry.MaxAttempts,
			"initialBackoff":       seconds(o.retry.InitialBackoff),
			"maxBackoff":           seconds(o.retry.MaxBackoff),
			"backoffMultiplier":    2,
			"retryableStatusCodes": []string{"UNAVAILABLE"},
		},
	}}}
	out, _ := json.Marshal(config)
	return string(out)
}

// An Option configures Dial.
type Option func(*options)

// WithNamespace is the namespace of calls that do not name one (default: the server's "default").
func WithNamespace(namespace string) Option { return func(o *options) { o.namespace = namespace } }

// WithTimeout is the deadline of calls whose context has none (default 5s; 0: none).
func WithTimeout(timeout time.Duration) Option { return func(o *options) { o.timeout = timeout } }

// WithRetry sets the retries of UNAVAILABLE (default: 3 attempts, 50ms doubling to 1s).
func WithRetry(policy RetryPolicy) Option { return func(o *options) { o.retry = policy } }

// WithDialOptions adds gRPC dial options (interceptors, credentials of your own, …); later ones win.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

type readOpts struct {
	namespace string
	options   mlcachev1.ReadOptions
	set       bool
}

func (r *readOpts) proto() *mlcachev1.ReadOptions {
	if !r.set {
		return nil
	}
	return &r.options
}

// A ReadOption shapes Get, GetJSON and BulkGet.
type ReadOption func(*readOpts)

func readOptions(opts []ReadOption) *readOpts {
	r := &readOpts{}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// InNamespace reads from another namespace than the client's.
func InNamespace(namespace string) ReadOption { return func(r *readOpts) { r.namespace = namespace } }

// SkipLoader answers from the cache layers only: a miss is ErrNotFound.
func SkipLoader() ReadOption {
	return func(r *readOpts) { r.options.SkipLoader, r.set = true, true }
}

// ForceRefresh loads from the origin even when a fresh value is cached.
func ForceRefresh() ReadOption {
	return func(r *readOpts) { r.options.ForceRefresh, r.set = true, true }
}

// AllowStale says whether a stale value may be served (unset: the namespace policy decides).
func AllowStale(allow bool) ReadOption {
	return func(r *readOpts) { r.options.AllowStale, r.set = &allow, true }
}

// MaxAge rejects cached values older than age.
func MaxAge(age time.Duration) ReadOption {
	return func(r *readOpts) { r.options.MaxAge, r.set = durationpb.New(age), true }
}

type writeOpts struct {
	namespace string
	ttl       time.Duration
	freshFor  time.Duration
	tags      []string
	version   uint64
	writeMode mlcachev1.WriteMode
}

// A WriteOption shapes Set, SetJSON and GetOrSet.
type WriteOption func(*writeOpts)

func writeOptions(opts []WriteOption) *writeOpts {
	w := &writeOpts{}
	for _, opt := range opts {
		opt(w)
	}
	return w
}

// WriteNamespace writes to another namespace than the client's.
func WriteNamespace(namespace string) WriteOption {
	return func(w *writeOpts) { w.namespace = namespace }
}

// WithTTL is the hard TTL of the value (default: the namespace policy).
func WithTTL(ttl time.Duration) WriteOption { return func(w *writeOpts) { w.ttl = ttl } }

// WithFreshFor is the soft TTL, after which the value is refreshed.
func WithFreshFor(d time.Duration) WriteOption { return func(w *writeOpts) { w.freshFor = d } }

// WithTags tags the value for invalidation by group.
func WithTags(tags ...string) WriteOption {
	return func(w *writeOpts) { w.tags = append(w.tags, tags...) }
}

// WithVersion sets the value's version (0: the server assigns one).
func WithVersion(version uint64) WriteOption { return func(w *writeOpts) { w.version = version } }

// WithWriteMode overrides the namespace's write mode.
func WithWriteMode(mode mlcachev1.WriteMode) WriteOption {
	return func(w *writeOpts) { w.writeMode = mode }
}

// A Target names what Invalidate drops.
type Target func(*mlcachev1.InvalidateRequest)

// Keys drops these keys.
func Keys(keys ...string) Target {
	return func(r *mlcachev1.InvalidateRequest) { r.Keys = append(r.Keys, keys...) }
}

// Tags drops every entry carrying one of these tags.
func Tags(tags ...string) Target {
	return func(r *mlcachev1.InvalidateRequest) { r.Tags = append(r.Tags, tags...) }
}

// Prefix drops every key starting with prefix ("" drops the whole namespace).
func Prefix(prefix string) Target { return func(r *mlcachev1.InvalidateRequest) { r.Prefix = &prefix } }

// InvalidateNamespace targets another namespace than the client's.
func InvalidateNamespace(namespace string) Target {
	return func(r *mlcachev1.InvalidateRequest) { r.Namespace = namespace }
}

// A WatchOption shapes WatchStats.
type WatchOption func(*mlcachev1.WatchStatsRequest)

// Every sets the time between snapshots (100ms to 1h; default 1s).
func Every(interval time.Duration) WatchOption {
	return func(r *mlcachev1.WatchStatsRequest) { r.Interval = durationpb.New(interval) }
}

// Namespaces limits the snapshots to these namespaces.
func Namespaces(namespaces ...string) WatchOption {
	return func(r *mlcachev1.WatchStatsRequest) { r.Namespaces = append(r.Namespaces, namespaces...) }
}

// HotKeys asks for this many hot keys per namespace (at most 100).
func HotKeys(n uint32) WatchOption { return func(r *mlcachev1.WatchStatsRequest) { r.HotKeys = n } }

// seconds formats d as the service config wants durations ("0.050s").
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }
