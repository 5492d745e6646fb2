package decode

import "fmt"

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
type LinkType uint16

// Link types calipath decodes.
const (
	LinkNull     LinkType = 0
	LinkEthernet LinkType = 1
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6, as tcpdump writes for tunl0
	LinkLinuxSLL LinkType = 113 // Linux cooked v1 (tcpdump -i any before 4.99)
	LinkIPv4     LinkType = 228
	LinkIPv6     LinkType = 229
	LinkSLL2     LinkType = 276 // Linux cooked v2 (tcpdump -i any since 4.99)
)

// String names the link type as tcpdump does.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkRaw:
		return "RAW"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkSLL2:
		return "LINUX_SLL2"
	}
	return fmt.Sprintf("LINKTYPE_%d", uint16(l))
}

// Format is a capture file format.
type Format uint8

// Capture file formats.
const (
	FormatUnknown Format = iota
	FormatPcap
	FormatPcapNG
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// MaxCapLen is the largest record calipath accepts (tcpdump's own maximum snaplen, 256 KiB).
// A record claiming more is treated as corrupt and skipped; nothing is allocated from it.
const MaxCapLen = 262144

// Record is one captured frame as read from a file.
//
// Data aliases the Reader's internal buffer: it is valid only until the next call to Next.
// Copy what must outlive that (Decode copies into value types).
type Record struct {
	Frame    uint32   // 1-based frame number, counted as Wireshark counts (skipped records included)
	Ts       int64    // capture time in ns since the Unix epoch (pcapng if_tsoffset applied)
	CapLen   int      // captured length, == len(Data)
	OrigLen  int      // length on the wire
	LinkType LinkType // link type of the frame's interface
	Iface    int      // pcapng interface, numbered across the file's sections (0 for pcap files)
	Data     []byte
	// FracOver reports a timestamp whose fraction field said a second or more (a pcap record's
	// microseconds ≥ 1,000,000 or nanoseconds ≥ 10⁹): Ts carries the excess into the seconds.
	FracOver bool
}

// set assigns every field of rec, one at a time. (A composite literal, *rec = Record{...}, is built in a
// temporary and then copied with 16-byte moves that cannot be forwarded from the temporary's narrower
// stores: a stall on every record.)
func (rec *Record) set(frame uint32, ts int64, fracOver bool, capLen, origLen int, lt LinkType, iface int, data []byte) {
	rec.Frame = frame
	rec.Ts = ts
	rec.FracOver = fracOver
	rec.CapLen = capLen
	rec.OrigLen = origLen
	rec.LinkType = lt
	rec.Iface = iface
	rec.Data = data
}

// setNext is set for the next record of the pcap file whose reader gave rec its last record (the
// scan's next record, read at its loop's end): its link type and interface are those set gave it then
// (the file's link type, interface 0), and nothing else writes them, so they are not stored again
// (three instructions a record). TestScanRecordsLikeNext holds the records read so to Next's.
func (rec *Record) setNext(frame uint32, ts int64, fracOver bool, capLen, origLen int, data []byte) {
	rec.Frame = frame
	rec.Ts = ts
	rec.FracOver = fracOver
	rec.CapLen = capLen
	rec.OrigLen = origLen
	rec.Data = data
}

// Interface describes one pcapng Interface Description Block, or the single interface of a pcap file.
type Interface struct {
	LinkType    LinkType
	SnapLen     uint32
	Name        string // if_name, unsanitised (sanitise before printing to a terminal)
	Description string // if_description
	TsResol     uint8  // raw if_tsresol option byte (6 = µs, 9 = ns, high bit = power of two)
	TsOffset    int64  // if_tsoffset in seconds
}

// RecordError reports a record, a run of records or a byte range that was skipped. The Reader stays
// usable: call Next again.
type RecordError struct {
	Frame  uint32 // frame number the (first) record would have had (0 when no frame number applies)
	Offset int64  // byte offset of the record in the (decompressed) stream
	// Records is how many records (or byte ranges) this error stands for, all counted by Skipped: 1,
	// or more for a run of empty records, whose frame numbers are Frame to Frame+Records-1.
	Records int
	Reason  string
}

func (e *RecordError) Error() string {
	switch {
	case e.Frame == 0:
		return fmt.Sprintf("offset %d: %s", e.Offset, e.Reason)
	case e.Records > 1:
		return fmt.Sprintf("frames %d-%d (offset %d): %s", e.Frame, e.Frame+uint32(e.Records-1), e.Offset, e.Reason)
	}
	return fmt.Sprintf("frame %d (offset %d): %s", e.Frame, e.Offset, e.Reason)
}

// Reader streams the records of one capture file (pcap or pcapng, optionally gzip-compressed).
type Reader interface {
	// Next reads the next record into rec. It returns io.EOF at the end of the file, a *RecordError for a
	// record that was skipped (the Reader stays usable), or any other error when the rest of the file
	// cannot be read.
	Next(rec *Record) error
	// Format reports pcap or pcapng.
	Format() Format
	// Compressed reports whether the file was gzip-compressed.
	Compressed() bool
	// Interfaces lists the interfaces seen so far (pcapng IDBs of every section, numbered across the
	// file; or the one pcap interface), so that Interfaces()[rec.Iface] describes any record returned.
	Interfaces() []Interface
	// Offset is the number of bytes consumed from the underlying (compressed) file so far, for progress.
	Offset() int64
	// Skipped counts the records and byte ranges reported so far as *RecordError.
	Skipped() int
}
