package mlcache_test

// The Go client against a real server: scripts/clients/run-suites.mjs starts it and sets
// MLCACHE_SERVER=host:grpcPort and MLCACHE_TOKEN (read, write and admin on every namespace).
// Every CacheService RPC and the error codes.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mlcache "github.com/mlcache/mlcache/clients/go"
	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
)

const namespace = "client-go"

var run = fmt.Sprintf("%d", time.Now().UnixNano())

func key(name string) string { return run + ":" + name }

func client(t *testing.T, opts ...mlcache.Option) *mlcache.Client {
	t.Helper()
	addr := os.Getenv("MLCACHE_SERVER")
	if addr == "" {
		t.Fatal("MLCACHE_SERVER must name a running server: run `npm run test:clients`")
	}
	base := []mlcache.Option{mlcache.WithNamespace(namespace), mlcache.WithToken(env(t, "MLCACHE_TOKEN"))}
	c, err := mlcache.Dial(addr, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// env is a variable the runner sets; the test fails without it.
func env(t *testing.T, name string) string {
	t.Helper()
	value := os.Getenv(name)
	if value == "" {
		t.Fatalf("%s is not set: run `npm run test:clients`", name)
	}
	return value
}

func TestSetThenGet(t *testing.T) {
	c, ctx := client(t), context.Background()
	written, err := c.Set(ctx, key("a"), []byte("hello"), mlcache.WithTTL(time.Minute), mlcache.WithTags("t1"))
	if err != nil || !written.GetApplied() {
		t.Fatalf("Set: %v %v", written, err)
	}
	item, err := c.Get(ctx, key("a"))
	if err != nil {
		t.Fatal(err)
	}
	if string(item.GetValue()) != "hello" || item.GetSource() != mlcachev1.Source_SOURCE_L1 ||
		item.GetVersion() != written.GetVersion() || len(item.GetTags()) != 1 {
		t.Fatalf("Get: %v", item)
	}
}

func TestGetMissingIsErrNotFound(t *testing.T) {
	if _, err := client(t).Get(context.Background(), key("missing"), mlcache.SkipLoader()); !errors.Is(err, mlcache.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

func TestJSON(t *testing.T) {
	c, ctx := client(t), context.Background()
	type user struct{ Name string }
	if _, err := c.SetJSON(ctx, key("json"), user{"Ada"}); err != nil {
		t.Fatal(err)
	}
	var got user
	if err := c.GetJSON(ctx, key("json"), &got); err != nil || got.Name != "Ada" {
		t.Fatalf("GetJSON: %v %v", got, err)
	}
}

func TestBulkGet(t *testing.T) {
	c, ctx := client(t), context.Background()
	if _, err := c.Set(ctx, key("b1"), []byte("one")); err != nil {
		t.Fatal(err)
	}
	results, err := c.BulkGet(ctx, []string{key("b1"), key("b2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || string(results[key("b1")].Item.GetValue()) != "one" || results[key("b2")].Item != nil {
		t.Fatalf("BulkGet: %v", results)
	}
}

func TestInvalidate(t *testing.T) {
	c, ctx := client(t), context.Background()
	for _, k := range []string{"i1", "i2", "p:1"} {
		if _, err := c.Set(ctx, key(k), []byte("x"), mlcache.WithTags("tag-"+run)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Invalidate(ctx, mlcache.Keys(key("i1")))
	if err != nil || res.GetKeysRemoved() != 1 {
		t.Fatalf("Invalidate keys: %v %v", res, err)
	}
	if _, err := c.Invalidate(ctx, mlcache.Tags("tag-"+run)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invalidate(ctx, mlcache.Prefix(key("p:"))); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"i1", "i2", "p:1"} {
		if _, err := c.Get(ctx, key(k)); !errors.Is(err, mlcache.ErrNotFound) {
			t.Fatalf("%s still there: %v", k, err)
		}
	}
}

func TestGetOrSetCallsTheFallbackOnce(t *testing.T) {
	c, ctx := client(t), context.Background()
	var calls atomic.Int32
	fallback := func(context.Context) ([]byte, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return []byte("computed"), nil
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if v, err := c.GetOrSet(ctx, key("gos"), fallback); err != nil || string(v) != "computed" {
				t.Errorf("GetOrSet: %q %v", v, err)
			}
		})
	}
	wg.Wait()
	if v, err := c.GetOrSet(ctx, key("gos"), fallback); err != nil || string(v) != "computed" {
		t.Fatalf("GetOrSet again: %q %v", v, err)
	}
	if calls.Load() != 1 {
		t.Fatalf("fallback called %d times", calls.Load())
	}
}

func TestWatchStats(t *testing.T) {
	c := client(t)
	if _, err := c.Set(context.Background(), key("w"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), key("w")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var snapshots []*mlcachev1.StatsSnapshot
	for res, err := range c.WatchStats(ctx, mlcache.Every(100*time.Millisecond), mlcache.Namespaces(namespace)) {
		if err != nil {
			t.Fatal(err)
		}
		snapshots = append(snapshots, res.GetSnapshot())
		if len(snapshots) == 2 {
			break
		}
	}
	if len(snapshots) != 2 || len(snapshots[1].GetNamespaces()) != 1 || snapshots[1].GetNamespaces()[0].GetRequests() == 0 {
		t.Fatalf("snapshots: %v", snapshots)
	}
}

func TestInspect(t *testing.T) {
	c, ctx := client(t), context.Background()
	if _, err := c.Set(ctx, key("insp"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	res, err := c.Inspect(ctx, &mlcachev1.InspectRequest{Namespace: namespace, Keys: []string{key("insp")}, HotKeys: 10})
	if err != nil || len(res.GetKeyStats()) != 1 || res.GetKeyStats()[0].GetKey() != key("insp") {
		t.Fatalf("Inspect: %v %v", res, err)
	}
}

func TestErrorCodes(t *testing.T) {
	c, ctx := client(t), context.Background()
	if _, err := c.Get(ctx, ""); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("empty key: want InvalidArgument, got %v", err)
	}
	if _, err := c.Invalidate(ctx); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("empty invalidate: want InvalidArgument, got %v", err)
	}
	for _, err := range c.WatchStats(ctx, mlcache.Every(time.Millisecond)) {
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("1ms interval: want InvalidArgument, got %v", err)
		}
	}
}

func TestDeadlineExceeded(t *testing.T) {
	// A listener that accepts and never answers: a hung server.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c, err := mlcache.Dial(silent.Addr().String(), mlcache.WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get(context.Background(), "k"); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
}

func TestUnavailableIsReportedAfterRetries(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	c, err := mlcache.Dial(addr, mlcache.WithRetry(mlcache.RetryPolicy{MaxAttempts: 4, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get(context.Background(), "k"); status.Code(err) != codes.Unavailable {
		t.Fatalf("want Unavailable, got %v", err)
	}
}
