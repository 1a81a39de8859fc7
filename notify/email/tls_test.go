package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/kubedrift/kubedrift/notify/email/mailpittest"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kubedrift test smtp"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestMailpitTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	for _, tc := range []struct {
		name   string
		mode   string
		flags  []string
		trust  bool
		wantOK bool
	}{
		{"starttls with auth", TLSStartTLS, []string{"--smtp-require-starttls"}, true, true},
		{"implicit tls with auth", TLSImplicit, []string{"--smtp-require-tls"}, true, true},
		{"starttls untrusted certificate", TLSStartTLS, []string{"--smtp-require-starttls"}, false, false},
		{"opportunistic uses starttls", TLSStartTLSOpportunistic, []string{"--smtp-require-starttls"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := append([]string{"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-auth-accept-any"}, tc.flags...)
			mp := mailpittest.Start(t, flags...)
			cfg := mailpitConfig(mp)
			cfg.TLS = tc.mode
			cfg.Username, cfg.Password = "tls-bot", "tls-Secret-99"
			n, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tc.trust {
				n.rootCAs = pool
			}
			retry, err := n.SendDigest(context.Background(), testDigest())
			got := mp.Messages(t)
			if !tc.wantOK {
				if err == nil || retry {
					t.Fatalf("retry=%v err=%v, want a permanent certificate error", retry, err)
				}
				if !strings.Contains(err.Error(), "certificate") {
					t.Errorf("error %q does not name the certificate problem", err)
				}
				if len(got) != 0 {
					t.Errorf("%d messages delivered over an unverified connection", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("SendDigest: retry=%v err=%v", retry, err)
			}
			if len(got) != 1 {
				t.Fatalf("mailpit holds %d messages, want 1", len(got))
			}
			for _, m := range got {
				if m.Username != "tls-bot" {
					t.Errorf("SMTP user = %q, want tls-bot (authenticated over TLS)", m.Username)
				}
			}
		})
	}
}
