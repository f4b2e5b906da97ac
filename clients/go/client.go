// Package mlcache is a Go client for MultilayerCache, on the code generated from
// proto/mlcache/v1 (package mlcachev1 in ./gen/mlcache/v1).
//
//	c, err := mlcache.Dial("127.0.0.1:50051", mlcache.WithNamespace("users"))
//	if err != nil { ... }
//	defer c.Close()
//	_, err = c.Set(ctx, "user:1", []byte(`{"name":"Ada"}`), mlcache.WithTTL(time.Minute))
//	item, err := c.Get(ctx, "user:1") // errors.Is(err, mlcache.ErrNotFound) on a miss
//
// Errors from the server are gRPC status errors: status.Code(err) gives the code
// (codes.InvalidArgument for an empty key, codes.DeadlineExceeded past a deadline, …).
package mlcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
)

// ErrNotFound is returned by Get and GetJSON when no layer (nor the loader) has the key.
var ErrNotFound = errors.New("mlcache: key not found")

// A Client talks to one MultilayerCache address. It is safe for concurrent use.
type Client struct {
	conn    *grpc.ClientConn
	rpc     mlcachev1.CacheServiceClient
	options options
	loads   singleflight.Group
}

// Dial connects lazily to addr (host:port of the gRPC port); calls block until connected or
// their deadline passes. Plaintext without a credential unless WithTLS / WithToken say otherwise:
//
//	c, err := mlcache.Dial("cache.internal:50051", mlcache.WithToken(os.Getenv("MLCACHE_TOKEN")),
//		mlcache.WithTLS(mlcache.TLS{CAFile: "ca.pem"}))
func Dial(addr string, opts ...Option) (*Client, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	dialOptions, err := o.credentialOptions()
	if err != nil {
		return nil, err
	}
	dialOptions = append(append(dialOptions, grpc.WithDefaultServiceConfig(o.serviceConfig())), o.dialOptions...)
	conn, err := grpc.NewClient(addr, dialOptions...)
	if err != nil {
		return nil, fmt.Errorf("mlcache: dial %s: %w", addr, err)
	}
	return &Client{conn: conn, rpc: mlcachev1.NewCacheServiceClient(conn), options: o}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RPC is the generated client, for anything the Client does not wrap.
func (c *Client) RPC() mlcachev1.CacheServiceClient { return c.rpc }

// Get returns the item stored under key, or ErrNotFound.
func (c *Client) Get(ctx context.Context, key string, opts ...ReadOption) (*mlcachev1.Item, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	r := readOptions(opts)
	res, err := c.rpc.Get(ctx, &mlcachev1.GetRequest{Namespace: c.ns(r.namespace), Key: key, Options: r.proto()})
	if err != nil {
		return nil, err
	}
	if !res.GetItem().GetFound() {
		return nil, ErrNotFound
	}
	return res.GetItem(), nil
}

// GetJSON decodes the JSON value under key into v, or returns ErrNotFound.
func (c *Client) GetJSON(ctx context.Context, key string, v any, opts ...ReadOption) error {
	item, err := c.Get(ctx, key, opts...)
	if err != nil {
		return err
	}
	return json.Unmarshal(item.GetValue(), v)
}

// A Result is the outcome of one key of BulkGet: Item is nil when the key was not found,
// Err is set when that key failed (a gRPC status error).
type Result struct {
	Item *mlcachev1.Item
	Err  error
}

// BulkGet reads many keys of one namespace in one call; the map has an entry per distinct key.
func (c *Client) BulkGet(ctx context.Context, keys []string, opts ...ReadOption) (map[string]Result, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	r := readOptions(opts)
	res, err := c.rpc.BulkGet(ctx, &mlcachev1.BulkGetRequest{Namespace: c.ns(r.namespace), Keys: keys, Options: r.proto()})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Result, len(res.GetResults()))
	for _, result := range res.GetResults() {
		switch outcome := result.GetOutcome().(type) {
		case *mlcachev1.BulkGetResult_Error:
			out[result.GetKey()] = Result{Err: status.Error(codes.Code(outcome.Error.GetCode()), outcome.Error.GetMessage())}
		case *mlcachev1.BulkGetResult_Item:
			if outcome.Item.GetFound() {
				out[result.GetKey()] = Result{Item: outcome.Item}
			} else {
				out[result.GetKey()] = Result{}
			}
		}
	}
	return out, nil
}

// Set writes value under key.
func (c *Client) Set(ctx context.Context, key string, value []byte, opts ...WriteOption) (*mlcachev1.SetResponse, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	w := writeOptions(opts)
	req := &mlcachev1.SetRequest{
		Namespace: c.ns(w.namespace), Key: key, Value: value, Tags: w.tags, Version: w.version, WriteMode: w.writeMode,
	}
	if w.ttl > 0 {
		req.Ttl = durationpb.New(w.ttl)
	}
	if w.freshFor > 0 {
		req.FreshFor = durationpb.New(w.freshFor)
	}
	return c.rpc.Set(ctx, req)
}

// SetJSON writes v as JSON.
func (c *Client) SetJSON(ctx context.Context, key string, v any, opts ...WriteOption) (*mlcachev1.SetResponse, error) {
	value, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mlcache: encode %q: %w", key, err)
	}
	return c.Set(ctx, key, value, opts...)
}

// Invalidate drops what the targets name: Keys(...), Tags(...), Prefix(...).
func (c *Client) Invalidate(ctx context.Context, targets ...Target) (*mlcachev1.InvalidateResponse, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	req := &mlcachev1.InvalidateRequest{Namespace: c.options.namespace}
	for _, target := range targets {
		target(req)
	}
	return c.rpc.Invalidate(ctx, req)
}

// GetOrSet returns the cached value of key, or else the value of fallback, which is stored.
// Concurrent calls for one key in this process share one fallback call.
func (c *Client) GetOrSet(ctx context.Context, key string, fallback func(context.Context) ([]byte, error), opts ...WriteOption) ([]byte, error) {
	ns := c.ns(writeOptions(opts).namespace)
	value, err, _ := c.loads.Do(ns+"\x00"+key, func() (any, error) {
		item, err := c.Get(ctx, key, InNamespace(ns))
		if err == nil {
			return item.GetValue(), nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		value, err := fallback(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := c.Set(ctx, key, value, opts...); err != nil {
			return nil, err
		}
		return value, nil
	})
	if err != nil {
		return nil, err
	}
	return value.([]byte), nil
}

// WatchStats streams statistics snapshots until ctx ends or the loop stops; a stream error
// is the last value. Cancelling ctx ends the loop without an error.
//
//	for snapshot, err := range c.WatchStats(ctx, mlcache.Every(time.Second)) { ... }
func (c *Client) WatchStats(ctx context.Context, opts ...WatchOption) iter.Seq2[*mlcachev1.WatchStatsResponse, error] {
	req := &mlcachev1.WatchStatsRequest{}
	for _, opt := range opts {
		opt(req)
	}
	return func(yield func(*mlcachev1.WatchStatsResponse, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.rpc.WatchStats(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		for {
			res, err := stream.Recv()
			if err != nil {
				if ctx.Err() == nil || status.Code(err) != codes.Canceled {
					yield(nil, err)
				}
				return
			}
			if !yield(res, nil) {
				return
			}
		}
	}
}

// Inspect answers hot keys, per-key statistics and in-flight loads.
func (c *Client) Inspect(ctx context.Context, req *mlcachev1.InspectRequest) (*mlcachev1.InspectResponse, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	return c.rpc.Inspect(ctx, req)
}

func (c *Client) ns(override string) string {
	if override != "" {
		return override
	}
	return c.options.namespace
}

// deadline applies the client's default timeout when ctx has no deadline of its own.
func (c *Client) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.options.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.options.timeout)
}
