package mlcache_test

// A LoaderService written in Go as a namespace's origin, against the real server: the test
// serves a loaderservice.Map on a free loopback port, points a namespace at it with
// AdminService.UpdatePolicy (origins can change at run time), and reads through it with the Go
// client. (The TypeScript suite does the same with the origin named in the server's config
// file: clients/ts/test/loader.test.ts and cmd/example-loader.)

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	mlcache "github.com/mlcache/mlcache/clients/go"
	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
	"github.com/mlcache/mlcache/clients/go/loaderservice"
)

func TestReadThroughAGoLoaderService(t *testing.T) {
	addr := os.Getenv("MLCACHE_SERVER")
	if addr == "" {
		t.Fatal("MLCACHE_SERVER must name a running server: run `npm run test:clients`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ns := "client-go-loader"

	origin := loaderservice.NewMap()
	srv, err := loaderservice.Listen("127.0.0.1:0", origin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// The generated AdminService client is called bare: its calls carry the token in metadata.
	authorized := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+env(t, "MLCACHE_TOKEN"))
	}
	admin := mlcachev1.NewAdminServiceClient(conn)
	if _, err := admin.UpdatePolicy(authorized(ctx), &mlcachev1.UpdatePolicyRequest{Policy: &mlcachev1.NamespacePolicy{
		Namespace: ns,
		Loader:    &mlcachev1.OriginPolicy{Kind: &mlcachev1.OriginPolicy_Grpc{Grpc: &mlcachev1.GrpcOrigin{Target: srv.Addr}}},
	}}); err != nil {
		t.Fatalf("UpdatePolicy (loader.grpc = %s): %v", srv.Addr, err)
	}
	t.Cleanup(func() {
		_, _ = admin.ResetPolicy(authorized(context.Background()), &mlcachev1.ResetPolicyRequest{Namespace: ns})
	})

	c := client(t, mlcache.WithNamespace(ns))
	origin.Put(ns, key("u1"), loaderservice.Value{Data: []byte("Ada"), Tags: []string{"team:7"}, Version: 5})

	item, err := c.Get(ctx, key("u1"))
	if err != nil {
		t.Fatalf("Get through the Go origin: %v", err)
	}
	if string(item.GetValue()) != "Ada" || item.GetSource() != mlcachev1.Source_SOURCE_LOADER ||
		item.GetVersion() != 5 || len(item.GetTags()) != 1 || item.GetTags()[0] != "team:7" {
		t.Fatalf("Get: want Ada from SOURCE_LOADER with the origin's version and tags, got %v", item)
	}
	if again, err := c.Get(ctx, key("u1")); err != nil || again.GetSource() != mlcachev1.Source_SOURCE_L1 {
		t.Fatalf("second Get should be an L1 hit: %v %v", again, err)
	}
	if n := origin.Calls().Loaded[ns+"/"+key("u1")]; n != 1 {
		t.Fatalf("the origin was asked for the key %d times, want 1", n)
	}

	// A key the origin does not have: not found, and the origin was asked.
	if _, err := c.Get(ctx, key("nobody")); !errors.Is(err, mlcache.ErrNotFound) {
		t.Fatalf("Get of a key the origin lacks: want ErrNotFound, got %v", err)
	}
	if n := origin.Calls().Loaded[ns+"/"+key("nobody")]; n != 1 {
		t.Fatalf("the origin was asked for the missing key %d times, want 1", n)
	}

	// Two misses in one BulkGet reach the origin together, as one BulkLoad.
	origin.Put(ns, key("b1"), loaderservice.Value{Data: []byte("one")})
	origin.Put(ns, key("b2"), loaderservice.Value{Data: []byte("two")})
	before := origin.Calls().BulkLoad
	results, err := c.BulkGet(ctx, []string{key("b1"), key("b2")})
	if err != nil || string(results[key("b1")].Item.GetValue()) != "one" || string(results[key("b2")].Item.GetValue()) != "two" {
		t.Fatalf("BulkGet: %v %v", results, err)
	}
	if n := origin.Calls().BulkLoad - before; n != 1 {
		t.Fatalf("BulkGet of two misses made %d BulkLoad calls, want 1", n)
	}

	// Write-through: Set reaches the origin's Store before it is acknowledged.
	written, err := c.Set(ctx, key("w1"), []byte("Grace"), mlcache.WithWriteMode(mlcachev1.WriteMode_WRITE_MODE_WRITE_THROUGH))
	if err != nil || !written.GetApplied() {
		t.Fatalf("Set WRITE_THROUGH: %v %v", written, err)
	}
	if v, ok := origin.Value(ns, key("w1")); !ok || string(v.Data) != "Grace" {
		t.Fatalf("the origin does not hold the written value: %v %v", v, ok)
	}
}
