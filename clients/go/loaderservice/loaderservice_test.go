package loaderservice_test

// The LoaderService helpers on their own: served on a free loopback port, called through the
// generated client (the same calls the cache makes). No cache server is needed here; the
// read-through over a real server is in ../loader_test.go.

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
	"github.com/mlcache/mlcache/clients/go/loaderservice"
)

func serve(t *testing.T, svc mlcachev1.LoaderServiceServer) mlcachev1.LoaderServiceClient {
	t.Helper()
	srv, err := loaderservice.Listen("127.0.0.1:0", svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return mlcachev1.NewLoaderServiceClient(conn)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestMapLoadBulkLoadStore(t *testing.T) {
	origin := loaderservice.NewMap()
	origin.Put("users", "1", loaderservice.Value{Data: []byte("Ada"), TTL: time.Minute, Tags: []string{"team:7"}, Version: 3})
	c := serve(t, origin)

	res, err := c.Load(ctx(t), &mlcachev1.LoadRequest{Namespace: "users", Key: "1"})
	if err != nil || !res.GetFound() || string(res.GetValue()) != "Ada" || res.GetTtl().AsDuration() != time.Minute ||
		res.GetVersion() != 3 || len(res.GetTags()) != 1 {
		t.Fatalf("Load: %v %v", res, err)
	}
	if res, err := c.Load(ctx(t), &mlcachev1.LoadRequest{Namespace: "users", Key: "2"}); err != nil || res.GetFound() {
		t.Fatalf("Load of a missing key: %v %v", res, err)
	}

	bulk, err := c.BulkLoad(ctx(t), &mlcachev1.BulkLoadRequest{Namespace: "users", Keys: []string{"1", "2"}})
	if err != nil || len(bulk.GetItems()) != 2 {
		t.Fatalf("BulkLoad: %v %v", bulk, err)
	}
	if one, two := bulk.GetItems()[0], bulk.GetItems()[1]; one.GetKey() != "1" || !one.GetFound() ||
		string(one.GetValue()) != "Ada" || two.GetKey() != "2" || two.GetFound() || two.GetError() != nil {
		t.Fatalf("BulkLoad items: %v", bulk.GetItems())
	}

	stored, err := c.Store(ctx(t), &mlcachev1.StoreRequest{Namespace: "users", Items: []*mlcachev1.StoreItem{
		{Key: "1", Deleted: true},
		{Key: "2", Value: []byte("Grace"), Version: 9},
	}})
	if err != nil || len(stored.GetResults()) != 0 {
		t.Fatalf("Store: %v %v", stored, err)
	}
	if _, ok := origin.Value("users", "1"); ok {
		t.Fatal("Store with deleted=true left the key")
	}
	if v, ok := origin.Value("users", "2"); !ok || string(v.Data) != "Grace" || v.Version != 9 {
		t.Fatalf("Store did not write: %v", v)
	}

	calls := origin.Calls()
	if calls.Load != 2 || calls.BulkLoad != 1 || calls.Store != 1 || calls.Loaded["users/1"] != 2 ||
		calls.Loaded["users/2"] != 2 || calls.Stored["users/2"] != 1 {
		t.Fatalf("calls: %+v", calls)
	}
}

func TestNewMapsErrorsToCodes(t *testing.T) {
	errDown := errors.New("database down")
	c := serve(t, loaderservice.New(func(_ context.Context, _, key string) (loaderservice.Value, error) {
		switch key {
		case "down":
			return loaderservice.Value{}, errDown
		case "denied":
			return loaderservice.Value{}, status.Error(codes.PermissionDenied, "no")
		case "missing":
			return loaderservice.Value{}, loaderservice.ErrNotFound
		}
		return loaderservice.Value{Data: []byte("v:" + key)}, nil
	}))

	if _, err := c.Load(ctx(t), &mlcachev1.LoadRequest{Namespace: "n", Key: "down"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("a plain error should be UNAVAILABLE (retried by the cache), got %v", err)
	}
	if _, err := c.Load(ctx(t), &mlcachev1.LoadRequest{Namespace: "n", Key: "denied"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a status error keeps its code, got %v", err)
	}
	if _, err := c.Load(ctx(t), &mlcachev1.LoadRequest{Namespace: "n"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an empty key is INVALID_ARGUMENT, got %v", err)
	}

	bulk, err := c.BulkLoad(ctx(t), &mlcachev1.BulkLoadRequest{Namespace: "n", Keys: []string{"a", "down", "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	items := bulk.GetItems()
	if len(items) != 3 || string(items[0].GetValue()) != "v:a" ||
		items[1].GetError().GetCode() != int32(codes.Unavailable) || items[1].GetFound() ||
		items[2].GetFound() || items[2].GetError() != nil {
		t.Fatalf("BulkLoad: a key's failure stays its own: %v", items)
	}

	if _, err := c.Store(ctx(t), &mlcachev1.StoreRequest{Namespace: "n"}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("Store without WithStore is UNIMPLEMENTED, got %v", err)
	}
}

func TestStoreReportsPerKeyErrors(t *testing.T) {
	c := serve(t, loaderservice.New(
		func(context.Context, string, string) (loaderservice.Value, error) { return loaderservice.Value{}, nil },
		loaderservice.WithStore(func(_ context.Context, _ string, item *mlcachev1.StoreItem) error {
			if item.GetKey() == "bad" {
				return status.Error(codes.FailedPrecondition, "version conflict")
			}
			return nil
		}),
	))
	res, err := c.Store(ctx(t), &mlcachev1.StoreRequest{Namespace: "n", Items: []*mlcachev1.StoreItem{{Key: "ok"}, {Key: "bad"}}})
	if err != nil || len(res.GetResults()) != 1 || res.GetResults()[0].GetKey() != "bad" ||
		res.GetResults()[0].GetError().GetCode() != int32(codes.FailedPrecondition) {
		t.Fatalf("Store: %v %v", res, err)
	}
}
