// Command labtraffic generates and serves the lab's test traffic, and prints
// one JSON line per client run describing what it sent and got back; the
// truth computer reads those lines as the lab's own log.
//
//	labtraffic serve -http :8080 -udp :9000 -body 4000
//	labtraffic get   -url http://10.244.2.7:8080/ -timeout 3s
//	labtraffic get   -url http://10.244.2.7:8080/ -lport 20000 [-rst]   (a fixed source port: port reuse)
//	labtraffic udp   -addr 10.244.2.7:9000 -n 3
//	labtraffic ping  -dst 10.244.2.7 -n 3
//
// IPv6: serve -ipv6 listens on IPv6 instead of IPv4; the clients use IPv6 when given an IPv6
// address (http://[fd00:244::47]:8080/, [fd00:244::47]:9000, -dst fd00:244::47).
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is one client run, printed as a JSON line.
type Result struct {
	Kind     string `json:"kind"`
	From     string `json:"from,omitempty"`
	Src      string `json:"src,omitempty"`
	Dst      string `json:"dst"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
	Status   int    `json:"status,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	ICMPID   int    `json:"icmp_id,omitempty"`
	Err      string `json:"err,omitempty"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("labtraffic: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: labtraffic serve|get|udp|ping [flags]")
	}
	var err error
	var res Result
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		err = serve(args)
	case "get":
		res, err = get(args)
	case "udp":
		res, err = udp(args)
	case "ping":
		res, err = ping(args)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
	if res.Kind != "" {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	httpAddr := fs.String("http", ":8080", "HTTP listen address")
	udpAddr := fs.String("udp", ":9000", "UDP echo listen address")
	body := fs.Int("body", 4000, "HTTP response body size in bytes")
	ipv6 := fs.Bool("ipv6", false, "listen on IPv6 instead of IPv4")
	if err := fs.Parse(args); err != nil {
		return err
	}
	family := "4"
	if *ipv6 {
		family = "6"
	}
	if *body < 0 || *body > 1<<20 {
		return fmt.Errorf("-body %d out of range", *body)
	}
	payload := []byte(strings.Repeat("calipath-lab-body.", *body/18+1)[:*body])
	ln, err := net.Listen("tcp"+family, *httpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(payload)
			log.Printf("http %s %s from %s", r.Method, r.URL.Path, r.RemoteAddr)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	uc, err := net.ListenPacket("udp"+family, *udpAddr)
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = uc.WriteTo(append([]byte("re:"), buf[:n]...), from)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	_ = uc.Close()
	return srv.Close()
}

func get(args []string) (Result, error) {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	url := fs.String("url", "", "URL to fetch")
	from := fs.String("from", "", "name of the client pod, for the log")
	timeout := fs.Duration("timeout", 3*time.Second, "overall timeout")
	lport := fs.Int("lport", 0, "connect from this source port (SO_REUSEADDR), in one HTTP/1.0 exchange the server closes")
	rst := fs.Bool("rst", false, "with -lport: end the connection with a reset (SO_LINGER 0) instead of a FIN")
	if err := fs.Parse(args); err != nil {
		return Result{}, err
	}
	res := Result{Kind: "http", From: *from, Dst: *url, Sent: 1}
	if *lport != 0 {
		return getFrom(res, *url, *lport, *rst, *timeout)
	}
	var (
		mu    sync.Mutex // the dial may still run when Get gives up on a timeout
		local string
	)
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp"+hostFamily(addr), addr)
			if err == nil {
				mu.Lock()
				local = c.LocalAddr().String()
				mu.Unlock()
			}
			return c, err
		},
	}
	cl := &http.Client{Transport: tr, Timeout: *timeout}
	resp, err := cl.Get(*url)
	mu.Lock()
	res.Src = local
	mu.Unlock()
	if err != nil {
		res.Err = err.Error()
		return res, nil
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	res.Bytes, err = io.Copy(io.Discard, resp.Body)
	if err != nil {
		res.Err = err.Error()
		return res, nil
	}
	res.Received = 1
	return res, nil
}

// getFrom is get from source port lport: one HTTP/1.0 request, whose answer the server ends by closing
// the connection; the client reads up to that FIN before it closes its side (a FIN, or with rst a
// reset: SO_LINGER 0), so that the server, not the client, holds the closed connection's TIME_WAIT
// (or, after a reset, nothing) and the next connection from lport to the same server can open on the
// same 5-tuple at once.
func getFrom(res Result, rawURL string, lport int, rst bool, timeout time.Duration) (Result, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return res, err
	}
	d := net.Dialer{
		Timeout:   timeout,
		LocalAddr: &net.TCPAddr{Port: lport},
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			}); err != nil {
				return err
			}
			return serr
		},
	}
	c, err := d.Dial("tcp"+hostFamily(u.Host), u.Host)
	if err != nil {
		res.Err = err.Error()
		return res, nil
	}
	tc := c.(*net.TCPConn)
	defer func() {
		if rst {
			_ = tc.SetLinger(0)
		}
		_ = tc.Close()
	}()
	res.Src = c.LocalAddr().String()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host); err != nil {
		res.Err = err.Error()
		return res, nil
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		res.Err = err.Error()
		return res, nil
	}
	res.Status = resp.StatusCode
	res.Bytes, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil {
		_, err = io.Copy(io.Discard, br) // up to the server's FIN
	}
	if err != nil {
		res.Err = err.Error()
		return res, nil
	}
	res.Received = 1
	return res, nil
}

func udp(args []string) (Result, error) {
	fs := flag.NewFlagSet("udp", flag.ContinueOnError)
	addr := fs.String("addr", "", "server host:port")
	from := fs.String("from", "", "name of the client pod, for the log")
	n := fs.Int("n", 3, "requests")
	size := fs.Int("size", 64, "request size in bytes")
	timeout := fs.Duration("timeout", time.Second, "per-request timeout")
	sizesArg := fs.String("sizes", "", "comma-separated request sizes, used in turn instead of -size (one flow of mixed sizes: vlan-loss)")
	if err := fs.Parse(args); err != nil {
		return Result{}, err
	}
	sizes := []int{*size}
	if *sizesArg != "" {
		sizes = nil
		for _, f := range strings.Split(*sizesArg, ",") {
			v, err := strconv.Atoi(f)
			if err != nil {
				return Result{}, fmt.Errorf("-sizes %q: %v", *sizesArg, err)
			}
			sizes = append(sizes, v)
		}
	}
	for _, sz := range sizes {
		if sz < 8 || sz > 1400 {
			return Result{}, errors.New("-size and -sizes must be 8..1400")
		}
	}
	if *n < 0 || *n > 1000 {
		return Result{}, errors.New("-n must be 0..1000")
	}
	c, err := net.Dial("udp"+hostFamily(*addr), *addr)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	res := Result{Kind: "udp", From: *from, Src: c.LocalAddr().String(), Dst: *addr}
	buf := make([]byte, 2048)
	for i := 0; i < *n; i++ {
		msg := []byte(fmt.Sprintf("req-%04d-", i))
		for len(msg) < sizes[i%len(sizes)] {
			msg = append(msg, 'u')
		}
		if _, err := c.Write(msg); err != nil {
			res.Err = err.Error()
			continue
		}
		res.Sent++
		_ = c.SetReadDeadline(time.Now().Add(*timeout))
		if m, err := c.Read(buf); err == nil && strings.HasPrefix(string(buf[:m]), "re:"+string(msg[:9])) {
			res.Received++
		} else if err != nil {
			res.Err = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return res, nil
}

func ping(args []string) (Result, error) {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	dst := fs.String("dst", "", "destination IPv4 or IPv6 address")
	from := fs.String("from", "", "name of the client pod, for the log")
	n := fs.Int("n", 3, "echo requests")
	size := fs.Int("size", 56, "payload bytes")
	interval := fs.Duration("interval", 200*time.Millisecond, "interval")
	timeout := fs.Duration("timeout", time.Second, "wait for the last reply")
	df := fs.Bool("df", false, "set DF and never fragment (IP_PMTUDISC_DO, as ping -M do): a request larger than the path MTU the kernel knows fails to send")
	if err := fs.Parse(args); err != nil {
		return Result{}, err
	}
	if *size < 8 || *size > 1472 || *n < 0 || *n > 1000 {
		return Result{}, errors.New("-size must be 8..1472 and -n 0..1000")
	}
	ip := net.ParseIP(*dst)
	if ip == nil {
		return Result{}, fmt.Errorf("-dst %q: not an IP address", *dst)
	}
	// ICMP echo request and reply types; IPv6 uses ICMPv6 (128, 129), whose checksum the kernel
	// computes (it covers a pseudo-header the socket does not see).
	v6, echo, reply := ip.To4() == nil, byte(8), byte(0)
	network, laddr := "ip4:icmp", "0.0.0.0"
	if v6 {
		echo, reply, network, laddr = 128, 129, "ip6:ipv6-icmp", "::"
	} else {
		ip = ip.To4()
	}
	c, err := net.ListenPacket(network, laddr)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	if *df && v6 {
		return Result{}, errors.New("-df: IPv4 only (IPv6 is never fragmented on the way)")
	}
	if *df {
		if err := pmtudiscDo(c); err != nil {
			return Result{}, err
		}
	}
	id := os.Getpid() & 0xffff
	res := Result{Kind: "ping", From: *from, Dst: *dst, ICMPID: id}
	got := make(map[int]bool)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			m, peer, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if m < 8 || buf[0] != reply || int(binary.BigEndian.Uint16(buf[4:6])) != id {
				continue
			}
			if p, ok := peer.(*net.IPAddr); !ok || !p.IP.Equal(ip) {
				continue
			}
			got[int(binary.BigEndian.Uint16(buf[6:8]))] = true
		}
	}()
	for seq := 1; seq <= *n; seq++ {
		msg := make([]byte, 8+*size)
		msg[0] = echo
		binary.BigEndian.PutUint16(msg[4:6], uint16(id))
		binary.BigEndian.PutUint16(msg[6:8], uint16(seq))
		for i := 8; i < len(msg); i++ {
			msg[i] = byte(i)
		}
		if !v6 {
			binary.BigEndian.PutUint16(msg[2:4], csum(msg))
		}
		if _, err := c.WriteTo(msg, &net.IPAddr{IP: ip}); err != nil {
			res.Err = err.Error()
		} else {
			res.Sent++
		}
		time.Sleep(*interval)
	}
	time.Sleep(*timeout)
	_ = c.Close()
	<-done
	res.Received = len(got)
	return res, nil
}

// hostFamily is "6" for a host:port whose host is an IPv6 address, else "4".
func hostFamily(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if ip := net.ParseIP(h); err == nil && ip != nil && ip.To4() == nil {
		return "6"
	}
	return "4"
}

// pmtudiscDo sets IP_MTU_DISCOVER to IP_PMTUDISC_DO on a raw IPv4 socket.
func pmtudiscDo(c net.PacketConn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errors.New("-df: not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, syscall.IP_PMTUDISC_DO)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("-df: setsockopt IP_MTU_DISCOVER: %w", serr)
	}
	return nil
}

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
