package mlcache_test

// Credentials against the real servers scripts/clients/run-suites.mjs starts: the plaintext one
// (MLCACHE_SERVER) knows MLCACHE_TOKEN (every right everywhere) and MLCACHE_READ_TOKEN (read in
// MLCACHE_READ_NAMESPACE only); the TLS one (MLCACHE_TLS_SERVER, mutual TLS, certificate made by
// openssl for this run) trusts client certificates signed by MLCACHE_CA and knows the identity
// MLCACHE_TLS_IDENTITY (MLCACHE_CERT / MLCACHE_CERT_KEY), which may read and write in tls-*.

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mlcache "github.com/mlcache/mlcache/clients/go"
)

func dial(t *testing.T, addr string, opts ...mlcache.Option) *mlcache.Client {
	t.Helper()
	c, err := mlcache.Dial(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestWithoutATokenIsUnauthenticated(t *testing.T) {
	c := dial(t, env(t, "MLCACHE_SERVER"), mlcache.WithNamespace(namespace))
	if _, err := c.Get(context.Background(), key("a")); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Get without a token: %v, want UNAUTHENTICATED", err)
	}
	c = dial(t, env(t, "MLCACHE_SERVER"), mlcache.WithNamespace(namespace), mlcache.WithToken("not-a-token-of-this-server"))
	if _, err := c.Get(context.Background(), key("a")); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Get with an unknown token: %v, want UNAUTHENTICATED", err)
	}
}

func TestAReadOnlyTokenMayReadButNotSet(t *testing.T) {
	ns := env(t, "MLCACHE_READ_NAMESPACE")
	c := dial(t, env(t, "MLCACHE_SERVER"), mlcache.WithNamespace(ns), mlcache.WithToken(env(t, "MLCACHE_READ_TOKEN")))
	ctx := context.Background()
	if _, err := c.Get(ctx, key("ro"), mlcache.SkipLoader()); !errors.Is(err, mlcache.ErrNotFound) {
		t.Fatalf("Get with the read token: %v, want ErrNotFound", err)
	}
	_, err := c.Set(ctx, key("ro"), []byte("x"))
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "write") {
		t.Fatalf("Set with the read token: %v, want PERMISSION_DENIED naming the write right", err)
	}
}

func TestATokenWithSpacesIsRefusedBeforeDialling(t *testing.T) {
	_, err := mlcache.Dial(env(t, "MLCACHE_SERVER"), mlcache.WithToken("two words"))
	if err == nil || strings.Contains(err.Error(), "two words") {
		t.Fatalf("Dial with a token holding a space: %v, want an error that does not repeat it", err)
	}
}

// tlsFiles is the CA and this run's client certificate.
func tlsFiles(t *testing.T) mlcache.TLS {
	return mlcache.TLS{CAFile: env(t, "MLCACHE_CA"), CertFile: env(t, "MLCACHE_CERT"), KeyFile: env(t, "MLCACHE_CERT_KEY")}
}

func TestTLSWithAClientCertificateIdentity(t *testing.T) {
	c := dial(t, env(t, "MLCACHE_TLS_SERVER"), mlcache.WithNamespace("tls-go"), mlcache.WithTLS(tlsFiles(t)))
	ctx := context.Background()
	if _, err := c.Set(ctx, key("tls"), []byte("over TLS")); err != nil {
		t.Fatalf("Set over mutual TLS: %v", err)
	}
	item, err := c.Get(ctx, key("tls"))
	if err != nil || string(item.GetValue()) != "over TLS" {
		t.Fatalf("Get over mutual TLS: %v %v", item, err)
	}
	// The certificate is the identity, with the identity's rights: nothing outside tls-*.
	_, err = c.Set(ctx, key("tls"), []byte("x"), mlcache.WriteNamespace("elsewhere"))
	identity := env(t, "MLCACHE_TLS_IDENTITY")
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), identity) {
		t.Fatalf("Set outside the identity's namespaces: %v, want PERMISSION_DENIED naming %s", err, identity)
	}
}

func TestTLSWithTheCAFromBytes(t *testing.T) {
	files := tlsFiles(t)
	files.CA, files.CAFile = readFile(t, files.CAFile), ""
	c := dial(t, env(t, "MLCACHE_TLS_SERVER"), mlcache.WithNamespace("tls-go"), mlcache.WithTLS(files))
	if _, err := c.Get(context.Background(), key("absent"), mlcache.SkipLoader()); !errors.Is(err, mlcache.ErrNotFound) {
		t.Fatalf("Get over TLS, CA given as bytes: %v, want ErrNotFound", err)
	}
}

func TestTLSWithoutTrustingTheCAFails(t *testing.T) {
	files := tlsFiles(t)
	files.CAFile = "" // the system's roots do not know this run's CA
	c := dial(t, env(t, "MLCACHE_TLS_SERVER"), mlcache.WithTLS(files), mlcache.WithTimeout(3*time.Second),
		mlcache.WithRetry(mlcache.RetryPolicy{MaxAttempts: 1}))
	if _, err := c.Get(context.Background(), key("a")); status.Code(err) != codes.Unavailable {
		t.Fatalf("Get over TLS without the CA: %v, want UNAVAILABLE (certificate not trusted)", err)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
