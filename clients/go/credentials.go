package mlcache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// TLS says how to reach the server over TLS. The zero value trusts the system's roots and
// sends no client certificate.
type TLS struct {
	// CAFile is a PEM file of the CAs to trust instead of the system's (the CLI's --ca).
	CAFile string
	// CA is the same as PEM bytes; both may be given.
	CA []byte
	// CertFile and KeyFile are a client certificate and its key, for mutual TLS (--cert, --cert-key).
	CertFile, KeyFile string
	// ServerName overrides the name checked against the server's certificate (default: the host of addr).
	ServerName string
}

// WithToken sends "authorization: Bearer <token>" on every call ("" sends none). The token is
// sent as given, over TLS or not: use WithTLS beyond loopback.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithTLS connects over TLS (default: plaintext).
func WithTLS(config TLS) Option { return func(o *options) { o.tls = &config } }

// credentialOptions turns the token and TLS settings into dial options.
func (o options) credentialOptions() ([]grpc.DialOption, error) {
	transport := insecure.NewCredentials()
	if o.tls != nil {
		config, err := o.tls.config()
		if err != nil {
			return nil, err
		}
		transport = credentials.NewTLS(config)
	}
	dial := []grpc.DialOption{grpc.WithTransportCredentials(transport)}
	if o.token != "" {
		// Printable ASCII without spaces: what a header carries intact and the server reads as
		// one token. The error does not repeat the token.
		if strings.IndexFunc(o.token, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
			return nil, errors.New("mlcache: a token must be printable ASCII without spaces")
		}
		dial = append(dial, grpc.WithPerRPCCredentials(bearer("Bearer "+o.token)))
	}
	return dial, nil
}

func (t *TLS) config() (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" || len(t.CA) > 0 {
		pem := append([]byte(nil), t.CA...)
		if t.CAFile != "" {
			file, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("mlcache: read the CA file: %w", err)
			}
			pem = append(append(pem, '\n'), file...)
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errors.New("mlcache: the CA holds no PEM certificate")
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("mlcache: TLS.CertFile and TLS.KeyFile go together")
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mlcache: load the client certificate: %w", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

// bearer is the authorization header value, sent with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": string(b)}, nil
}

// RequireTransportSecurity is false: plaintext on loopback (tests, sidecars) is allowed.
func (bearer) RequireTransportSecurity() bool { return false }

// String keeps the token out of logs and %v.
func (bearer) String() string { return "Bearer <redacted>" }
