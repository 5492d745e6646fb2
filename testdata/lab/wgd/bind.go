//go:build linux

package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.zx2c4.com/wireguard/conn"
)

// udpBind is wireguard-go's UDP side, made to send as the kernel module does: one datagram per
// message (no UDP GSO, so a capture on eth0 shows each message as its own frame, where
// wireguard-go's own StdNetBind would hand the kernel batches that veth captures show as one
// super-datagram), and without DF (the module sends with df = 0 and ignore_df, so a router with a
// smaller MTU fragments the encrypted packets instead of refusing them). Every socket carries the
// fwmark, so the node's routing rule sends WireGuard's own packets past its routing table.
type udpBind struct {
	mu   sync.Mutex
	conn *net.UDPConn
	mark uint32

	keylog *keylog // nil: no keylog (tests)
	onSend func(msg []byte, dst netip.AddrPort)

	sent, recv  [5]atomic.Int64 // by message type; [0] for anything else
	sendErrors  atomic.Int64
	keysMissing atomic.Int64
}

type endpoint struct{ netip.AddrPort }

func (e *endpoint) ClearSrc()           {}
func (e *endpoint) SrcToString() string { return "" }
func (e *endpoint) DstToString() string { return e.AddrPort.String() }
func (e *endpoint) DstToBytes() []byte  { b, _ := e.AddrPort.MarshalBinary(); return b }
func (e *endpoint) DstIP() netip.Addr   { return e.AddrPort.Addr() }
func (e *endpoint) SrcIP() netip.Addr   { return netip.Addr{} }

var _ conn.Bind = (*udpBind)(nil)

func msgType(b []byte) int {
	if len(b) >= 4 && b[0] >= msgInitiation && b[0] <= msgTransport && b[1] == 0 && b[2] == 0 && b[3] == 0 {
		return int(b[0])
	}
	return 0
}

func (b *udpBind) Open(port uint16) ([]conn.ReceiveFunc, uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil {
		return nil, 0, conn.ErrBindAlreadyOpen
	}
	mark := b.mark
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, syscall.IP_PMTUDISC_DONT)
			if serr == nil && mark != 0 {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, int(mark))
			}
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(netip.IPv4Unspecified(), port).String())
	if err != nil {
		return nil, 0, err
	}
	uc := pc.(*net.UDPConn)
	b.conn = uc
	return []conn.ReceiveFunc{func(packets [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		n, from, err := uc.ReadFromUDPAddrPort(packets[0])
		if err != nil {
			return 0, err
		}
		sizes[0] = n
		eps[0] = &endpoint{netip.AddrPortFrom(from.Addr().Unmap(), from.Port())}
		b.recv[msgType(packets[0][:n])].Add(1)
		return 1, nil
	}}, uint16(uc.LocalAddr().(*net.UDPAddr).Port), nil
}

func (b *udpBind) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close()
	b.conn = nil
	return err
}

func (b *udpBind) SetMark(mark uint32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mark = mark
	if b.conn == nil {
		return nil
	}
	rc, err := b.conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, int(mark))
	}); err != nil {
		return err
	}
	return serr
}

func (b *udpBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	e, ok := ep.(*endpoint)
	if !ok {
		return conn.ErrWrongEndpointType
	}
	b.mu.Lock()
	uc := b.conn
	b.mu.Unlock()
	if uc == nil {
		return net.ErrClosed
	}
	for _, msg := range bufs {
		if b.keylog != nil && !b.keylog.sent(msg) {
			b.keysMissing.Add(1)
		}
		if b.onSend != nil {
			b.onSend(msg, e.AddrPort)
		}
		if _, err := uc.WriteToUDPAddrPort(msg, e.AddrPort); err != nil {
			b.sendErrors.Add(1)
			return err
		}
		b.sent[msgType(msg)].Add(1)
	}
	return nil
}

func (b *udpBind) ParseEndpoint(s string) (conn.Endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, err
	}
	return &endpoint{netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, nil
}

func (b *udpBind) BatchSize() int { return 1 }
