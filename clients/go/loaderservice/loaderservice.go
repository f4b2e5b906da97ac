// Package loaderservice helps an origin team implement mlcache.v1.LoaderService in Go: the
// service the cache calls on a miss (Load, or BulkLoad for batched misses) and for
// write-through writes (Store). Write one function that reads the system of record; New makes
// a complete service of it, Listen serves it.
//
//	svc := loaderservice.New(func(ctx context.Context, namespace, key string) (loaderservice.Value, error) {
//		doc, err := db.Find(ctx, key)
//		if errors.Is(err, db.ErrNoRows) {
//			return loaderservice.Value{}, loaderservice.ErrNotFound
//		}
//		return loaderservice.Value{Data: doc, TTL: time.Minute}, err
//	})
//	srv, err := loaderservice.Listen("127.0.0.1:9000", svc)
//
// and name it in the cache's config: namespaces: { users: { loader: { grpc: { target: 127.0.0.1:9000 } } } }.
//
// The cache batches concurrent misses into BulkLoad by default, so a LoaderService must answer
// both Load and BulkLoad; New does. Map is an in-memory one, for tests and examples.
package loaderservice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
)

// ErrNotFound is what a LoadFunc returns for a key the origin does not have; the cache then
// caches the absence for the namespace's negative TTL.
var ErrNotFound = errors.New("loaderservice: not found")

// A Value is what the origin holds for a key.
type Value struct {
	Data []byte
	// TTL the origin suggests; zero uses the namespace policy.
	TTL  time.Duration
	Tags []string
	// The origin's version of the value (for example a row version); zero: none.
	Version uint64
}

// LoadFunc reads one key from the system of record. It returns ErrNotFound for a missing key.
// A gRPC status error keeps its code; context errors become DEADLINE_EXCEEDED or CANCELLED;
// any other error becomes UNAVAILABLE, which the cache retries (with backoff, behind its breaker).
type LoadFunc func(ctx context.Context, namespace, key string) (Value, error)

// StoreFunc applies one write (write-through, or the write-behind sink) to the system of record.
// item.Deleted is true for a delete.
type StoreFunc func(ctx context.Context, namespace string, item *mlcachev1.StoreItem) error

// An Option configures New.
type Option func(*service)

// WithStore makes Store call store for each item (in the order given); without it Store
// answers UNIMPLEMENTED, which is fine for a namespace that is only read through.
func WithStore(store StoreFunc) Option { return func(s *service) { s.store = store } }

// WithBulkConcurrency bounds how many keys of one BulkLoad are loaded at once (default 16).
func WithBulkConcurrency(n int) Option {
	return func(s *service) {
		if n > 0 {
			s.concurrency = n
		}
	}
}

type service struct {
	mlcachev1.UnimplementedLoaderServiceServer
	load        LoadFunc
	store       StoreFunc
	concurrency int
}

// New returns a LoaderService: Load calls load, BulkLoad calls load for each key (a key's
// failure is reported in its own LoadedItem, the others still succeed), Store calls the
// WithStore function.
func New(load LoadFunc, opts ...Option) mlcachev1.LoaderServiceServer {
	s := &service{load: load, concurrency: 16}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

func (s *service) Load(ctx context.Context, req *mlcachev1.LoadRequest) (*mlcachev1.LoadResponse, error) {
	if req.GetNamespace() == "" || req.GetKey() == "" {
		return nil, status.Error(codes.InvalidArgument, "namespace and key are required")
	}
	v, err := s.load(ctx, req.GetNamespace(), req.GetKey())
	if errors.Is(err, ErrNotFound) {
		return &mlcachev1.LoadResponse{Found: false}, nil
	}
	if err != nil {
		return nil, toStatus(err).Err()
	}
	return &mlcachev1.LoadResponse{Found: true, Value: v.Data, Ttl: ttl(v.TTL), Tags: v.Tags, Version: v.Version}, nil
}

func (s *service) BulkLoad(ctx context.Context, req *mlcachev1.BulkLoadRequest) (*mlcachev1.BulkLoadResponse, error) {
	if req.GetNamespace() == "" {
		return nil, status.Error(codes.InvalidArgument, "namespace is required")
	}
	items := make([]*mlcachev1.LoadedItem, len(req.GetKeys()))
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i, key := range req.GetKeys() {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			item := &mlcachev1.LoadedItem{Key: key}
			v, err := s.load(ctx, req.GetNamespace(), key)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				st := toStatus(err)
				item.Error = &mlcachev1.KeyError{Code: int32(st.Code()), Message: st.Message()}
			default:
				item.Found, item.Value, item.Ttl, item.Tags, item.Version = true, v.Data, ttl(v.TTL), v.Tags, v.Version
			}
			items[i] = item
		}()
	}
	wg.Wait()
	return &mlcachev1.BulkLoadResponse{Items: items}, nil
}

func (s *service) Store(ctx context.Context, req *mlcachev1.StoreRequest) (*mlcachev1.StoreResponse, error) {
	if s.store == nil {
		return nil, status.Error(codes.Unimplemented, "this origin does not take writes")
	}
	if req.GetNamespace() == "" {
		return nil, status.Error(codes.InvalidArgument, "namespace is required")
	}
	res := &mlcachev1.StoreResponse{}
	for _, item := range req.GetItems() {
		if err := s.store(ctx, req.GetNamespace(), item); err != nil {
			st := toStatus(err)
			res.Results = append(res.Results, &mlcachev1.StoreResult{
				Key:   item.GetKey(),
				Error: &mlcachev1.KeyError{Code: int32(st.Code()), Message: st.Message()},
			})
		}
	}
	return res, nil
}

func ttl(d time.Duration) *durationpb.Duration {
	if d <= 0 {
		return nil
	}
	return durationpb.New(d)
}

func toStatus(err error) *status.Status {
	if st, ok := status.FromError(err); ok {
		return st
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, err.Error())
	default:
		return status.New(codes.Unavailable, err.Error())
	}
}

// A Server is a LoaderService listening on a TCP address.
type Server struct {
	*grpc.Server
	// Addr is the address it listens on (host:port), with the port the kernel chose for ":0".
	Addr string
	done chan error
}

// Listen serves svc on addr ("127.0.0.1:0" for a free loopback port) in the background.
// Stop it with GracefulStop or Stop; Wait blocks until it has stopped.
func Listen(addr string, svc mlcachev1.LoaderServiceServer, opts ...grpc.ServerOption) (*Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loaderservice: listen on %s: %w", addr, err)
	}
	s := &Server{Server: grpc.NewServer(opts...), Addr: lis.Addr().String(), done: make(chan error, 1)}
	mlcachev1.RegisterLoaderServiceServer(s.Server, svc)
	go func() { s.done <- s.Serve(lis) }()
	return s, nil
}

// Wait blocks until the server has stopped and returns why (nil after GracefulStop or Stop).
func (s *Server) Wait() error {
	err := <-s.done
	s.done <- err
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}
