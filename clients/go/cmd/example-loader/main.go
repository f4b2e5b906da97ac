// Command example-loader is a LoaderService (proto/mlcache/v1/loader.proto) written in Go,
// backed by an in-memory map (loaderservice.Map): what an origin team runs so that a cache
// namespace reads through to it. scripts/clients/run-suites.mjs starts it for the client suites
// and configures the server's namespace `client-loader` to use it.
//
//	go run ./cmd/example-loader -addr 127.0.0.1:9000 -seed users/1='{"name":"Ada"}'
//
// then, in the cache's config: namespaces: { users: { loader: { grpc: { target: 127.0.0.1:9000 } } } }.
//
// With -admin ADDR it also serves a small HTTP API, so a test can see what the origin was asked
// and hold: GET /calls (JSON counters), GET or PUT /items/{namespace}/{key} (the map's value).
// It prints "loader listening on HOST:PORT" (and "admin listening on http://HOST:PORT") once
// it accepts connections, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
	"github.com/mlcache/mlcache/clients/go/loaderservice"
)

type seeds []string

func (s *seeds) String() string     { return strings.Join(*s, ",") }
func (s *seeds) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "gRPC address to listen on (port 0: any free port)")
	admin := flag.String("admin", "", "HTTP address for /calls and /items (empty: none)")
	var seed seeds
	flag.Var(&seed, "seed", "namespace/key=value to hold from the start (repeatable)")
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)

	origin := loaderservice.NewMap()
	for _, s := range seed {
		id, value, ok := strings.Cut(s, "=")
		namespace, key, ok2 := strings.Cut(id, "/")
		if !ok || !ok2 || namespace == "" || key == "" {
			log.Fatalf("-seed %q: want namespace/key=value", s)
		}
		origin.Put(namespace, key, loaderservice.Value{Data: []byte(value)})
	}

	srv, err := loaderservice.Listen(*addr, logged{origin})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loader listening on %s\n", srv.Addr)

	var httpSrv *http.Server
	if *admin != "" {
		lis, err := net.Listen("tcp", *admin)
		if err != nil {
			log.Fatal(err)
		}
		httpSrv = &http.Server{Handler: adminAPI(origin), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := httpSrv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				log.Fatal(err)
			}
		}()
		fmt.Printf("admin listening on http://%s\n", lis.Addr())
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		if httpSrv != nil {
			httpSrv.Close()
		}
		srv.GracefulStop()
	}()
	if err := srv.Wait(); err != nil {
		log.Fatal(err)
	}
}

func adminAPI(origin *loaderservice.Map) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(origin.Calls())
	})
	mux.HandleFunc("GET /items/{namespace}/{key...}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := origin.Value(r.PathValue("namespace"), r.PathValue("key"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(v.Data)
	})
	mux.HandleFunc("PUT /items/{namespace}/{key...}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		origin.Put(r.PathValue("namespace"), r.PathValue("key"), loaderservice.Value{Data: body})
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// logged writes a line per call, so the harness's loader log shows what the cache asked.
type logged struct{ *loaderservice.Map }

func (l logged) Load(ctx context.Context, req *mlcachev1.LoadRequest) (*mlcachev1.LoadResponse, error) {
	res, err := l.Map.Load(ctx, req)
	log.Printf("Load %s/%s found=%v err=%v", req.GetNamespace(), req.GetKey(), res.GetFound(), err)
	return res, err
}

func (l logged) BulkLoad(ctx context.Context, req *mlcachev1.BulkLoadRequest) (*mlcachev1.BulkLoadResponse, error) {
	res, err := l.Map.BulkLoad(ctx, req)
	found := 0
	for _, item := range res.GetItems() {
		if item.GetFound() {
			found++
		}
	}
	log.Printf("BulkLoad %s %v found=%d err=%v", req.GetNamespace(), req.GetKeys(), found, err)
	return res, err
}

func (l logged) Store(ctx context.Context, req *mlcachev1.StoreRequest) (*mlcachev1.StoreResponse, error) {
	res, err := l.Map.Store(ctx, req)
	keys := make([]string, 0, len(req.GetItems()))
	for _, item := range req.GetItems() {
		keys = append(keys, item.GetKey())
	}
	log.Printf("Store %s %v err=%v", req.GetNamespace(), keys, err)
	return res, err
}
