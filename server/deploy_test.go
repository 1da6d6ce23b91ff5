package server_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/server"
)

// stdioChildEnv makes the test binary a minimal stdio MCP server (see
// init), so that Config.Stdio can be tested without Node.js; the bridge's
// own tests run the real server-everything.
const stdioChildEnv = "MCPFIBER_SERVER_TEST_STDIO_CHILD"

// init runs before TestMain: as a child, answer initialize and ping on
// stdio, then exit when stdin closes.
func init() {
	if os.Getenv(stdioChildEnv) == "" {
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil || len(m.ID) == 0 {
			continue
		}
		switch m.Method {
		case "initialize":
			fmt.Printf(`{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"stdio-child","version":"1"}}}`+"\n", m.ID)
		case "ping":
			fmt.Printf(`{"jsonrpc":"2.0","id":%s,"result":{}}`+"\n", m.ID)
		}
	}
	os.Exit(0)
}

func getBody(t *testing.T, hc *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestStdioConfig serves a stdio child through Config.Stdio: initialize
// gets the child's answer, the bridge's metrics appear on /metrics of the
// main listener, and DELETE stops the child (counted as a delete).
func TestStdioConfig(t *testing.T) {
	t.Setenv(stdioChildEnv, "1") // inherited by the children
	srv, _ := startServer(t, server.Config{Stdio: []string{os.Args[0]}, MaxChildren: 2})
	hc := newHTTPClient(t)
	if srv.Bridge() == nil {
		t.Fatal("Bridge() = nil with Config.Stdio")
	}

	resp := rawPOST(t, hc, srv.URL(), "", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" || !strings.Contains(string(body), `"name":"stdio-child"`) {
		t.Fatalf("initialize: %d session %q %s, want the child's result", resp.StatusCode, sid, body)
	}
	resp = rawPOST(t, hc, srv.URL(), sid, "2025-11-25", `{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id":"p"`) {
		t.Fatalf("ping: %d %s", resp.StatusCode, body)
	}

	if got := srv.MetricsURL(); got != strings.TrimSuffix(srv.URL(), "/mcp")+"/metrics" {
		t.Errorf("MetricsURL() = %q, want /metrics on the main listener", got)
	}
	_, scrape := getBody(t, hc, srv.MetricsURL())
	for _, want := range []string{"\nmcpfiber_bridge_children 1\n", "\nmcpfiber_sessions 1\n", `mcpfiber_requests_total{method="ping",outcome="ok"} 1`} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape lacks %q", strings.TrimSpace(want))
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, srv.URL(), nil)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, 10*time.Second, func() error {
		if n := srv.Bridge().Stats().Live; n != 0 {
			return fmt.Errorf("%d live children after DELETE", n)
		}
		return nil
	})
	_, scrape = getBody(t, hc, srv.MetricsURL())
	for _, want := range []string{`mcpfiber_sessions_ended_total{reason="delete"} 1`, `mcpfiber_bridge_children_exited_total{how="stopped"} 1`} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

// TestMetricsAddr serves the metrics on a listener of their own, and none
// with "off".
func TestMetricsAddr(t *testing.T) {
	srv, _ := startServer(t, server.Config{MetricsAddr: "127.0.0.1:0"})
	hc := newHTTPClient(t)
	mu := srv.MetricsURL()
	if mu == "" || strings.HasPrefix(mu, strings.TrimSuffix(srv.URL(), "/mcp")) {
		t.Fatalf("MetricsURL() = %q, want another listener than %s", mu, srv.URL())
	}
	if code, body := getBody(t, hc, mu); code != http.StatusOK || !strings.Contains(body, "mcpfiber_sessions 0") {
		t.Errorf("GET %s: %d, want 200 with mcpfiber_sessions 0", mu, code)
	}
	if code, _ := getBody(t, hc, strings.TrimSuffix(srv.URL(), "/mcp")+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the MCP listener: %d, want 404 when --metrics-addr is set", code)
	}

	off, _ := startServer(t, server.Config{MetricsAddr: "off"})
	if got := off.MetricsURL(); got != "" {
		t.Errorf("MetricsURL() = %q with metrics off, want \"\"", got)
	}
	if code, _ := getBody(t, hc, strings.TrimSuffix(off.URL(), "/mcp")+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics with metrics off: %d, want 404", code)
	}
}

// TestTLS serves HTTPS with --tls-cert/--tls-key and checks a session
// over it; a missing key pair fails Listen.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	srv, _ := startServer(t, server.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("URL() = %q, want https://", srv.URL())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	rawInitialize(t, hc, srv.URL(), "2025-11-25")

	plain := newHTTPClient(t)
	if resp, err := plain.Get(strings.Replace(srv.URL(), "https://", "http://", 1)); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP to the TLS listener: %d, want a failure", resp.StatusCode)
		}
	}

	bad := server.New(server.Config{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: filepath.Join(t.TempDir(), "missing.pem"), Logger: testLogger()})
	t.Cleanup(func() { bad.Handler().Shutdown(context.Background(), 0) }) // never served: stop its sweeper
	if err := bad.Listen(); err == nil || !strings.Contains(err.Error(), "TLS key pair") {
		t.Errorf("Listen with a missing key: %v, want a TLS key pair error", err)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mcpfiber test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
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
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
