package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubedrift/kubedrift/tracker"
)

// fakeAPI is a Kubernetes API server that answers /version and /api/v1/nodes
// (with limit/continue paging) the way kube-apiserver does.
type fakeAPI struct {
	version string
	nodes   []corev1.Node
	// token, when set, is the bearer token every request must carry.
	token string
	// nodesStatus, when set, is the status /api/v1/nodes answers with.
	nodesStatus int
	// hang makes every request (hangNodes: node requests) wait until the
	// client gives up.
	hang, hangNodes bool
	// latency delays every response.
	latency time.Duration
	// protobuf answers node lists in protobuf when the client accepts it
	// (guarded by mu: tests switch it between subtests).
	protobuf bool

	srv  *httptest.Server
	stop chan struct{}

	mu         sync.Mutex
	pages      []page
	protoPages int
	userAgents []string
	badAuth    int
}

type page struct{ limit, cont string }

func startAPI(tb testing.TB, f *fakeAPI) *fakeAPI {
	tb.Helper()
	f.stop = make(chan struct{})
	// TLS, because client-go sends credentials only over TLS.
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(tb)}}
	f.srv.StartTLS()
	tb.Cleanup(func() {
		close(f.stop)
		f.srv.Close()
	})
	return f
}

var (
	certOnce sync.Once
	cert     tls.Certificate
	certErr  error
)

// serverCert is a self-signed ECDSA certificate for 127.0.0.1, shared by all
// fake API servers. ECDSA like most managed control planes, and cheap to
// handshake, so that benchmarks measure the client rather than the fake
// servers' RSA signatures.
func serverCert(tb testing.TB) tls.Certificate {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "kube-apiserver"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	if certErr != nil {
		tb.Fatalf("server certificate: %v", certErr)
	}
	return cert
}

func (f *fakeAPI) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.stop:
	}
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-r.Context().Done():
			return
		}
	}
	if f.hang || (f.hangNodes && r.URL.Path == "/api/v1/nodes") {
		f.wait(r)
		return
	}
	f.mu.Lock()
	f.userAgents = append(f.userAgents, r.UserAgent())
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		f.badAuth++
		f.mu.Unlock()
		writeStatus(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized")
		return
	}
	f.mu.Unlock()
	switch r.URL.Path {
	case "/version":
		writeJSON(w, http.StatusOK, version.Info{Major: "1", GitVersion: f.version, Platform: "linux/amd64"})
	case "/api/v1/nodes":
		if f.nodesStatus != 0 {
			writeStatus(w, f.nodesStatus, metav1.StatusReasonForbidden,
				`nodes is forbidden: User "system:serviceaccount:ops:kubedrift" cannot list resource "nodes" in API group "" at the cluster scope`)
			return
		}
		q := r.URL.Query()
		wantProto := strings.Contains(r.Header.Get("Accept"), protobufType)
		f.mu.Lock()
		f.pages = append(f.pages, page{q.Get("limit"), q.Get("continue")})
		wantProto = wantProto && f.protobuf
		if wantProto {
			f.protoPages++
		}
		f.mu.Unlock()
		start := 0
		if c := q.Get("continue"); c != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(c, "after-"))
			if err != nil || n < 0 || n > len(f.nodes) {
				writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "invalid continue token")
				return
			}
			start = n
		}
		end := len(f.nodes)
		if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && start+l < end {
			end = start + l
		}
		list := corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: f.nodes[start:end]}
		list.ResourceVersion = "4242"
		if end < len(f.nodes) {
			list.Continue = fmt.Sprintf("after-%d", end)
			rem := int64(len(f.nodes) - end)
			list.RemainingItemCount = &rem
		}
		if wantProto {
			w.Header().Set("Content-Type", protobufType)
			if err := protobufCodec.Encode(&list, w); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
			return
		}
		writeJSON(w, http.StatusOK, list)
	default:
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
	}
}

const protobufType = "application/vnd.kubernetes.protobuf"

var protobufCodec = func() *protobuf.Serializer {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		panic(err)
	}
	return protobuf.NewSerializer(s, s)
}()

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	writeJSON(w, code, metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	})
}

// makeNodes builds n nodes in pools of poolSize, labelled with poolLabel.
func makeNodes(n, poolSize int, kubelet, poolLabel string) []corev1.Node {
	nodes := make([]corev1.Node, n)
	for i := range nodes {
		nodes[i] = corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:   fmt.Sprintf("node-%04d", i),
				Labels: map[string]string{"kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m5.large"},
			},
			Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion:          kubelet,
				KubeProxyVersion:        strings.SplitN(kubelet, "-", 2)[0],
				ContainerRuntimeVersion: "containerd://1.7.13",
				OSImage:                 "Bottlerocket OS 1.19.2",
			}},
		}
		if poolLabel != "" {
			nodes[i].Labels[poolLabel] = fmt.Sprintf("pool-%d", i/poolSize)
		}
	}
	return nodes
}

// kcContext is one context of a generated kubeconfig.
type kcContext struct {
	name, token string
	// srv is the API server; its certificate becomes the cluster's CA.
	srv  *httptest.Server
	exec *clientcmdapi.ExecConfig
}

func caPEM(srv *httptest.Server) []byte {
	if srv.TLS == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.TLS.Certificates[0].Certificate[0]})
}

func writeKubeconfig(tb testing.TB, path, current string, ctxs ...kcContext) string {
	tb.Helper()
	cfg := clientcmdapi.NewConfig()
	for _, c := range ctxs {
		cfg.Clusters[c.name+"-cluster"] = &clientcmdapi.Cluster{Server: c.srv.URL, CertificateAuthorityData: caPEM(c.srv)}
		cfg.AuthInfos[c.name+"-user"] = &clientcmdapi.AuthInfo{Token: c.token, Exec: c.exec}
		cfg.Contexts[c.name] = &clientcmdapi.Context{Cluster: c.name + "-cluster", AuthInfo: c.name + "-user"}
	}
	cfg.CurrentContext = current
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		tb.Fatalf("write kubeconfig: %v", err)
	}
	return path
}

// execPlugin configures the shell-script credential plugin in testdata/.
func execPlugin(tb testing.TB, token string, fail bool) *clientcmdapi.ExecConfig {
	script, err := filepath.Abs("testdata/exec-credential.sh")
	if err != nil {
		tb.Fatal(err)
	}
	env := []clientcmdapi.ExecEnvVar{{Name: "KUBEDRIFT_TEST_TOKEN", Value: token}}
	if fail {
		env = append(env, clientcmdapi.ExecEnvVar{Name: "KUBEDRIFT_TEST_FAIL", Value: "1"})
	}
	return &clientcmdapi.ExecConfig{
		Command: "/bin/sh", Args: []string{script}, Env: env,
		APIVersion:      "client.authentication.k8s.io/v1",
		InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
	}
}

func TestDiscover(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("the exec credential plugin test needs /bin/sh")
	}
	const (
		staticToken = "static-token-0a1b2c3d"
		staleToken  = "stale-token-9f8e7d6c"
		execToken   = "exec-token-5e6f7a8b"
	)
	eks := startAPI(t, &fakeAPI{version: "v1.27.3-eks-a5565ad", token: staticToken,
		nodes: makeNodes(3, 2, "v1.26.9-eks-5e0fdde", "eks.amazonaws.com/nodegroup")})
	aks := startAPI(t, &fakeAPI{version: "v1.28.5", token: execToken,
		nodes: makeNodes(2, 2, "v1.28.5-aks-1", "kubernetes.azure.com/agentpool")})
	expired := startAPI(t, &fakeAPI{version: "v1.29.1", token: staticToken})
	forbidden := startAPI(t, &fakeAPI{version: "v1.26.15-gke.1090000", nodesStatus: http.StatusForbidden})
	pluginDown := startAPI(t, &fakeAPI{version: "v1.29.1"})
	gone := httptest.NewUnstartedServer(http.NotFoundHandler())
	gone.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(t)}}
	gone.StartTLS()
	gone.Close() // nothing listens there any more

	prompting := execPlugin(t, execToken, false)
	prompting.InteractiveMode = clientcmdapi.AlwaysExecInteractiveMode
	dir := t.TempDir()
	kc := writeKubeconfig(t, filepath.Join(dir, "config"), "prod-eks",
		kcContext{name: "prod-eks", srv: eks.srv, token: staticToken},
		kcContext{name: "prod-aks", srv: aks.srv, exec: execPlugin(t, execToken, false)},
		kcContext{name: "expired", srv: expired.srv, token: staleToken},
		kcContext{name: "no-nodes-rbac", srv: forbidden.srv, token: staticToken},
		kcContext{name: "plugin-fails", srv: pluginDown.srv, exec: execPlugin(t, execToken, true)},
		kcContext{name: "decommissioned", srv: gone, token: staticToken},
		kcContext{name: "plugin-prompts", srv: pluginDown.srv, exec: prompting},
	)
	// A context whose cluster entry is missing fails alone, not the run.
	cfg, err := clientcmd.LoadFromFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts["dangling"] = &clientcmdapi.Context{Cluster: "deleted-cluster", AuthInfo: "prod-eks-user"}
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	cs, err := Discover(context.Background(), Options{
		Kubeconfig: []string{kc}, AllContexts: true, Timeout: 20 * time.Second,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	wantNames := []string{"dangling", "decommissioned", "expired", "no-nodes-rbac", "plugin-fails", "plugin-prompts", "prod-aks", "prod-eks"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("clusters %v, want %v (sorted contexts)", names, wantNames)
	}

	tests := []struct {
		name, version, dist string
		nodes               int
		pools               []string
		errParts            []string // all must appear in Error; none means no error
	}{
		{name: "prod-eks", version: "v1.27.3-eks-a5565ad", dist: "eks", nodes: 3, pools: []string{"pool-0", "pool-0", "pool-1"}},
		// A plain control-plane version: the nodes' suffix names the provider.
		{name: "prod-aks", version: "v1.28.5", dist: "aks", nodes: 2, pools: []string{"pool-0", "pool-0"}},
		{name: "expired", errParts: []string{`context "expired"`, hostOf(expired.srv.URL), "read server version", "401"}},
		{name: "no-nodes-rbac", version: "v1.26.15-gke.1090000", dist: "gke",
			errParts: []string{`context "no-nodes-rbac"`, hostOf(forbidden.srv.URL), "list nodes", "403", `cannot list resource "nodes"`}},
		{name: "plugin-fails", errParts: []string{`context "plugin-fails"`, hostOf(pluginDown.srv.URL), "exec", "exit code 1"}},
		{name: "dangling", errParts: []string{`context "dangling"`, "invalid kubeconfig entry", "deleted-cluster"}},
		// Concurrent reads cannot share a terminal: a prompting plugin fails alone.
		{name: "plugin-prompts", errParts: []string{`context "plugin-prompts"`, "exec plugin cannot support interactive mode"}},
		{name: "decommissioned", errParts: []string{`context "decommissioned"`, hostOf(gone.URL), "read server version", "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cs[slices.Index(names, tt.name)]
			t.Logf("Error: %s", c.Error)
			if c.Source != "kubeconfig:"+tt.name || !c.ObservedAt.Equal(now) {
				t.Errorf("Source %q ObservedAt %v", c.Source, c.ObservedAt)
			}
			if c.Version != tt.version || c.Distribution != tt.dist {
				t.Errorf("version %q dist %q, want %q %q", c.Version, c.Distribution, tt.version, tt.dist)
			}
			if tt.version != "" && !slices.Equal(c.ControlPlaneVersions, []string{tt.version}) {
				t.Errorf("ControlPlaneVersions = %v", c.ControlPlaneVersions)
			}
			if len(c.Nodes) != tt.nodes {
				t.Errorf("%d nodes, want %d", len(c.Nodes), tt.nodes)
			}
			for i, p := range tt.pools {
				if i < len(c.Nodes) && c.Nodes[i].Pool != p {
					t.Errorf("node %d pool %q, want %q", i, c.Nodes[i].Pool, p)
				}
			}
			if len(tt.errParts) == 0 && c.Error != "" {
				t.Errorf("unexpected Error %q", c.Error)
			}
			for _, p := range tt.errParts {
				if !strings.Contains(c.Error, p) {
					t.Errorf("Error %q lacks %q", c.Error, p)
				}
			}
			for _, secret := range []string{staticToken, staleToken, execToken} {
				if strings.Contains(c.Error, secret) {
					t.Errorf("Error leaks a token: %q", c.Error)
				}
			}
		})
	}

	n := cs[slices.Index(names, "prod-eks")].Nodes[0]
	want := tracker.Node{Name: "node-0000", KubeletVersion: "v1.26.9-eks-5e0fdde", KubeProxyVersion: "v1.26.9", ContainerRuntime: "containerd://1.7.13", Pool: "pool-0"}
	if n != want {
		t.Errorf("node = %+v, want %+v", n, want)
	}
	// The exec plugin's token reached the server, and every request named us.
	for _, f := range []*fakeAPI{eks, aks} {
		f.mu.Lock()
		if f.badAuth != 0 || len(f.userAgents) == 0 {
			t.Errorf("%s: %d requests with a wrong token of %d", f.srv.URL, f.badAuth, len(f.userAgents))
		}
		for _, ua := range f.userAgents {
			if !strings.HasPrefix(ua, UserAgent) {
				t.Errorf("User-Agent %q", ua)
			}
		}
		f.mu.Unlock()
	}
}

func TestTimeout(t *testing.T) {
	hung := startAPI(t, &fakeAPI{version: "v1.30.0", hang: true})
	slowNodes := startAPI(t, &fakeAPI{version: "v1.30.0", hangNodes: true})
	kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "config"), "",
		kcContext{name: "hung", srv: hung.srv, token: "tok-abcdef"},
		kcContext{name: "slow-nodes", srv: slowNodes.srv, token: "tok-abcdef"})
	cs, err := Discover(context.Background(), Options{Kubeconfig: []string{kc}, AllContexts: true, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, version, op string
	}{
		{"hung", "", "read server version"},
		{"slow-nodes", "v1.30.0", "list nodes"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cs[i]
			if c.Name != tt.name || c.Version != tt.version {
				t.Errorf("cluster %q version %q, want %q %q", c.Name, c.Version, tt.name, tt.version)
			}
			for _, p := range []string{tt.op, "timed out after 300ms", fmt.Sprintf("context %q", tt.name)} {
				if !strings.Contains(c.Error, p) {
					t.Errorf("Error %q lacks %q", c.Error, p)
				}
			}
		})
	}
}

// TestPaging reads a 5,000-node cluster and checks the node list was paged
// with limit and continue.
func TestPaging(t *testing.T) {
	api := startAPI(t, &fakeAPI{version: "v1.31.4-gke.1000", nodes: makeNodes(5000, 1000, "v1.31.4-gke.1000", "cloud.google.com/gke-nodepool")})
	kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "config"), "big", kcContext{name: "big", srv: api.srv})
	tests := []struct {
		name     string
		protobuf bool
		pageSize int64
		limit    string
		pages    int
	}{
		{"default page size", false, 0, "500", 10},
		{"default page size, protobuf", true, 0, "500", 10},
		{"uneven pages", false, 1200, "1200", 5},
		{"one page, protobuf", true, 10000, "10000", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api.mu.Lock()
			api.pages, api.protoPages, api.protobuf = nil, 0, tt.protobuf
			api.mu.Unlock()
			cs, err := Discover(context.Background(), Options{Kubeconfig: []string{kc}, PageSize: tt.pageSize})
			if err != nil {
				t.Fatal(err)
			}
			c := cs[0]
			if c.Error != "" || len(c.Nodes) != 5000 {
				t.Fatalf("%d nodes, error %q", len(c.Nodes), c.Error)
			}
			if c.Nodes[4999].Name != "node-4999" || c.Nodes[4999].Pool != "pool-4" || c.Distribution != "gke" {
				t.Errorf("last node %+v, distribution %q", c.Nodes[4999], c.Distribution)
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if tt.protobuf && api.protoPages != tt.pages {
				t.Errorf("%d of %d pages served as protobuf", api.protoPages, tt.pages)
			}
			if len(api.pages) != tt.pages {
				t.Fatalf("%d page requests, want %d: %v", len(api.pages), tt.pages, api.pages)
			}
			n, _ := strconv.Atoi(tt.limit)
			for i, p := range api.pages {
				want := page{tt.limit, ""}
				if i > 0 {
					want.cont = fmt.Sprintf("after-%d", i*n)
				}
				if p != want {
					t.Errorf("page %d requested as %+v, want %+v", i, p, want)
				}
			}
		})
	}
}

func TestContextSelection(t *testing.T) {
	a := startAPI(t, &fakeAPI{version: "v1.29.2"})
	b := startAPI(t, &fakeAPI{version: "v1.30.1+k3s1"})
	dir := t.TempDir()
	fileA := writeKubeconfig(t, filepath.Join(dir, "a.yaml"), "alpha", kcContext{name: "alpha", srv: a.srv})
	fileB := writeKubeconfig(t, filepath.Join(dir, "b.yaml"), "beta", kcContext{name: "beta", srv: b.srv})
	noCurrent := writeKubeconfig(t, filepath.Join(dir, "nocurrent.yaml"), "", kcContext{name: "gamma", srv: a.srv})
	malformed := filepath.Join(dir, "malformed.yaml")
	if err := os.WriteFile(malformed, []byte("apiVersion: v1\nkind: Config\nclusters: [\n  - name: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	t.Setenv("KUBECONFIG", fileA+string(os.PathListSeparator)+fileB)

	tests := []struct {
		name    string
		opt     Options
		want    []string // cluster names, in order
		wantErr []string
	}{
		{name: "current context of the first KUBECONFIG file", opt: Options{}, want: []string{"alpha"}},
		{name: "all contexts across KUBECONFIG files", opt: Options{AllContexts: true}, want: []string{"alpha", "beta"}},
		{name: "named contexts keep their order", opt: Options{Contexts: []string{"beta", "alpha", "beta"}}, want: []string{"beta", "alpha"}},
		{name: "explicit file overrides KUBECONFIG", opt: Options{Kubeconfig: []string{fileB}}, want: []string{"beta"}},
		{name: "explicit files merge", opt: Options{Kubeconfig: []string{fileB, fileA}, AllContexts: true}, want: []string{"alpha", "beta"}},
		{name: "unknown context", opt: Options{Contexts: []string{"alpha", "prod"}}, wantErr: []string{`context "prod" not found`, "available: alpha, beta"}},
		{name: "malformed kubeconfig", opt: Options{Kubeconfig: []string{fileA, malformed}}, wantErr: []string{malformed}},
		{name: "missing kubeconfig", opt: Options{Kubeconfig: []string{missing}}, wantErr: []string{missing, "no such file"}},
		{name: "no current context", opt: Options{Kubeconfig: []string{noCurrent}}, wantErr: []string{"no current-context", noCurrent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Discover(context.Background(), tt.opt)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; clusters %+v", cs)
				}
				for _, p := range tt.wantErr {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("error %q lacks %q", err, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range cs {
				names = append(names, c.Name)
				if c.Error != "" || c.Version == "" {
					t.Errorf("%s: version %q error %q", c.Name, c.Version, c.Error)
				}
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("clusters %v, want %v", names, tt.want)
			}
		})
	}

	t.Run("Contexts lists every context", func(t *testing.T) {
		got, err := Contexts(Options{})
		if err != nil || !slices.Equal(got, []string{"alpha", "beta"}) {
			t.Errorf("Contexts = %v, %v", got, err)
		}
	})
	t.Run("no kubeconfig at all", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(dir, "nowhere", "config"))
		_, err := Contexts(Options{})
		if err == nil || !strings.Contains(err.Error(), "no kubeconfig contexts found") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestPlainHTTP: client-go drops credentials for http:// servers; the error
// must say so rather than leave the user puzzling over a valid token.
func TestPlainHTTP(t *testing.T) {
	f := &fakeAPI{version: "v1.29.2", token: "good-token-123456", stop: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() { close(f.stop); f.srv.Close() })
	kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "config"), "legacy", kcContext{name: "legacy", srv: f.srv, token: "good-token-123456"})
	cs, err := Discover(context.Background(), Options{Kubeconfig: []string{kc}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"401", "only over https"} {
		if !strings.Contains(cs[0].Error, p) {
			t.Errorf("Error %q lacks %q", cs[0].Error, p)
		}
	}
}

func TestCanceled(t *testing.T) {
	api := startAPI(t, &fakeAPI{version: "v1.29.2", hang: true})
	kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "config"), "", kcContext{name: "a", srv: api.srv}, kcContext{name: "b", srv: api.srv})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cs, err := Discover(ctx, Options{Kubeconfig: []string{kc}, AllContexts: true, Concurrency: 1})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d clusters, want 2", len(cs))
	}
	for _, c := range cs {
		if c.Error == "" || c.Name == "" {
			t.Errorf("cluster %+v has no error", c)
		}
	}
}

func TestDistribution(t *testing.T) {
	tests := []struct {
		cp, kubelet, want string
	}{
		{"v1.27.3-eks-a5565ad", "v1.27.3-eks-a5565ad", "eks"},
		{"v1.27.3", "v1.27.3-eks-a5565ad", "eks"},
		{"v1.28.5", "", "vanilla"},
		{"v1.28.5", "v1.28.5", "vanilla"},
		{"v1.29.4+k3s1", "v1.29.4+k3s1", "k3s"},
		{"v1.26.15-gke.1090000", "v1.25.16-gke.1000", "gke"},
		{"not-a-version", "v1.28.5", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.cp+"/"+tt.kubelet, func(t *testing.T) {
			var nodes []tracker.Node
			if tt.kubelet != "" {
				nodes = []tracker.Node{{KubeletVersion: tt.kubelet}}
			}
			if got := distribution(tt.cp, nodes); got != tt.want {
				t.Errorf("distribution = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	tests := []struct {
		name, server, want string
	}{
		{"plain", "https://10.0.0.1:6443", "10.0.0.1:6443"},
		{"user info", "https://admin:hunter2secret@api.example.com/k8s", "api.example.com"},
		{"no scheme", "admin:pw@10.0.0.2:6443", "10.0.0.2:6443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostOf(tt.server); got != tt.want {
				t.Errorf("hostOf(%q) = %q, want %q", tt.server, got, tt.want)
			}
		})
	}
	raw := clientcmdapi.NewConfig()
	raw.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://admin:hunter2secret@api.example.com"}
	raw.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "sekrit-token", Exec: &clientcmdapi.ExecConfig{Env: []clientcmdapi.ExecEnvVar{{Name: "K", Value: "env-secret-value"}}}}
	raw.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	msg := redact(`Get "https://admin:hunter2secret@api.example.com/version": token sekrit-token env env-secret-value`, secretsOf(raw, "x", nil))
	for _, s := range []string{"hunter2secret", "sekrit-token", "env-secret-value"} {
		if strings.Contains(msg, s) {
			t.Errorf("redacted message %q still holds %q", msg, s)
		}
	}
}
