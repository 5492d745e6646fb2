// Package tundev opens the TUN and TAP devices the lab's userspace daemons stand behind: ipipd's tunl0
// (this kernel has no ipip module) and vland's VLAN sub-interface (no 8021q module).
package tundev

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"
)

const (
	tunSetIff = 0x400454ca // TUNSETIFF
	iffTun    = 0x0001     // IFF_TUN: IP packets
	iffTap    = 0x0002     // IFF_TAP: Ethernet frames
	iffNoPi   = 0x1000     // IFF_NO_PI: no packet information header
)

// Open attaches to the existing TUN (tap false) or TAP (tap true) interface name, without packet
// information headers, and returns its file descriptor.
func Open(name string, tap bool) (int, error) {
	if len(name) >= syscall.IFNAMSIZ {
		return -1, fmt.Errorf("interface name %q too long", name)
	}
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	flags := uint16(iffTun | iffNoPi)
	if tap {
		flags = iffTap | iffNoPi
	}
	var ifr [40]byte
	copy(ifr[:syscall.IFNAMSIZ], name)
	binary.NativeEndian.PutUint16(ifr[syscall.IFNAMSIZ:], flags)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		syscall.Close(fd)
		return -1, fmt.Errorf("TUNSETIFF %s: %w", name, e)
	}
	return fd, nil
}
