// Command wgd is the lab's WireGuard: a userspace WireGuard node for kernels
// without the wireguard module, and the tool that decrypts what the lab
// captured, so that the truth computer knows which inner packet each
// encrypted message carried.
//
//	wgd genkey
//	wgd up -dev wireguard.cali -mtu 1440 -port 51820 -fwmark 0x100000 \
//	    -key node-a.key -peer PUBKEY -endpoint 192.168.20.2:51820 \
//	    -allowed 10.244.2.0/26 -keylog node-a-wg.keys
//	wgd decrypt -dir testdata/lab/scenarios-pending/healthy-wireguard > wg-decrypted.jsonl
//
// It lives in its own module (testdata/lab/wgd/go.mod) so that calipath's
// module needs neither golang.zx2c4.com/wireguard nor golang.org/x/crypto.
package main

import (
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("wgd: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: wgd genkey | up [flags] | decrypt -dir DIR")
	}
	var err error
	switch os.Args[1] {
	case "genkey":
		var k key
		k, err = genKey()
		if err == nil {
			fmt.Printf("%s\n%s\n", k, k.public())
		}
	case "up":
		err = up(os.Args[2:])
	case "decrypt":
		err = decryptCmd(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}
