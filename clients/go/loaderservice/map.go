package loaderservice

import (
	"context"
	"maps"
	"sync"

	mlcachev1 "github.com/mlcache/mlcache/clients/go/gen/mlcache/v1"
)

// Map is a LoaderService backed by an in-memory map, for tests and examples: Load and BulkLoad
// read it, Store writes it (deleted items are removed). It counts the calls it answers, so a
// test can tell whether the cache asked the origin.
type Map struct {
	mlcachev1.LoaderServiceServer
	mu    sync.Mutex
	items map[string]Value // by namespace + "/" + key (namespaces never contain '/')
	calls Calls
}

// Calls counts what a Map was asked.
type Calls struct {
	Load     int `json:"load"`
	BulkLoad int `json:"bulkLoad"`
	Store    int `json:"store"`
	// Loads (by Load or inside a BulkLoad) and stores per "namespace/key".
	Loaded map[string]int `json:"loaded"`
	Stored map[string]int `json:"stored"`
}

// NewMap returns an empty Map.
func NewMap() *Map {
	m := &Map{items: map[string]Value{}, calls: Calls{Loaded: map[string]int{}, Stored: map[string]int{}}}
	m.LoaderServiceServer = New(m.load, WithStore(m.store))
	return m
}

func id(namespace, key string) string { return namespace + "/" + key }

// Put sets the origin's value of a key.
func (m *Map) Put(namespace, key string, v Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[id(namespace, key)] = v
}

// Value returns the origin's value of a key.
func (m *Map) Value(namespace, key string) (Value, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[id(namespace, key)]
	return v, ok
}

// Delete removes a key from the origin.
func (m *Map) Delete(namespace, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, id(namespace, key))
}

// Calls returns a copy of the counters.
func (m *Map) Calls() Calls {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls
	c.Loaded, c.Stored = maps.Clone(m.calls.Loaded), maps.Clone(m.calls.Stored)
	return c
}

func (m *Map) Load(ctx context.Context, req *mlcachev1.LoadRequest) (*mlcachev1.LoadResponse, error) {
	m.count(func(c *Calls) { c.Load++ })
	return m.LoaderServiceServer.Load(ctx, req)
}

func (m *Map) BulkLoad(ctx context.Context, req *mlcachev1.BulkLoadRequest) (*mlcachev1.BulkLoadResponse, error) {
	m.count(func(c *Calls) { c.BulkLoad++ })
	return m.LoaderServiceServer.BulkLoad(ctx, req)
}

func (m *Map) Store(ctx context.Context, req *mlcachev1.StoreRequest) (*mlcachev1.StoreResponse, error) {
	m.count(func(c *Calls) { c.Store++ })
	return m.LoaderServiceServer.Store(ctx, req)
}

func (m *Map) count(f func(*Calls)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.calls)
}

func (m *Map) load(_ context.Context, namespace, key string) (Value, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls.Loaded[id(namespace, key)]++
	v, ok := m.items[id(namespace, key)]
	if !ok {
		return Value{}, ErrNotFound
	}
	return v, nil
}

func (m *Map) store(_ context.Context, namespace string, item *mlcachev1.StoreItem) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls.Stored[id(namespace, item.GetKey())]++
	if item.GetDeleted() {
		delete(m.items, id(namespace, item.GetKey()))
		return nil
	}
	m.items[id(namespace, item.GetKey())] = Value{
		Data:    item.GetValue(),
		Tags:    item.GetTags(),
		Version: item.GetVersion(),
	}
	return nil
}
