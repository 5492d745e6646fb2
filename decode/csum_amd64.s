#include "textflag.h"

// func sum16(s uint64, b []byte) uint64
//
// sum16Go's sum (csum.go) with ADCQ from memory and one carry chain through all the words: the
// words' carries go into the next addition rather than being counted apart (LEAQ and DECQ, which
// move on and count, leave the carry flag as it is), so that an 8-byte word costs one instruction
// (its round). Every sum is kept modulo 2^64-1 (end-around carry) and put in big-endian terms by
// rotations, as sum16Go does it; the result is folded to 33 bits once.
//
// 8 bytes and more: the whole 8-byte words, then the last r = len(b)%8 bytes: the last 8 bytes
// shifted right by 64-8r bits (by 1, then by 63-8r: a shift by 64 for r = 0, which x86 would take as
// one by 0), which leaves those r bytes where a load of the word after the whole words would have
// them (at an offset that is a multiple of 8, each byte in its half of its 16-bit word) and zeros
// above them: no mask, and no rotation for a window at an odd offset. Fewer than 8 bytes: sum16Short.
TEXT ·sum16(SB), NOSPLIT|NOFRAME, $0-40
	MOVQ b_len+16(FP), CX
	MOVQ b_base+8(FP), SI
	CMPQ CX, $8
	JLT  tiny

	// The W = len(b)/8 whole words (at least one), by the rounds of 16 words below (round, at 128
	// bytes into sum16), the first entered part way (by a jump: no call and return) so that it sums
	// the first m = (W-1)%16 + 1 of them (1 to 16), then the (W-1)/16 rounds after it. Each of a
	// round's ADCQs is 4 bytes long: the first round starts 4(m-1) bytes before the last one, at
	// sum16+128+60.
	LEAQ -8(CX), BX             // 8(W-1) + len(b)%8
	MOVQ BX, DX
	ANDQ $0x78, DX              // 8(m-1)
	LEAQ 8(SI)(DX*1), DI        // the first round's end: b + 8m
	SHRQ $1, DX                 // 4(m-1)
	SHRQ $7, BX                 // the rounds after the first
	LEAQ ·sum16+188(SB), R8     // round's last ADCQ
	SUBQ DX, R8

	// The last r = len(b)%8 bytes (R9), before the words: the last 8 bytes shifted right by 1 and
	// then by 63-8r (CL: ^(8·len(b)) mod 64).
	MOVQ -8(SI)(CX*1), R9
	SHLQ $3, CX
	NOTQ CX
	SHRQ $1, R9
	SHRQ CX, R9

	XORL AX, AX // the sum, and the carry flag clear
	JMP  R8

tiny:
	JMP ·sum16Short(SB)

	// A round adds the 16 words before DI to AX with the carry flag (each ADCQ 4 bytes long: a
	// displacement of one byte, never 0), then moves DI on by 128 bytes, BX counting the rounds left
	// (DECQ and LEAQ leave the carry flag). At 128 bytes into sum16 (PCALIGN: what is above is
	// shorter; the LEAQ above names its last ADCQ so, and TestSum16Reference, TestSum16LikeOld and
	// TestSumOKFrom, which take every entry, fail if it is not there).
	PCALIGN $128

round:
	ADCQ -128(DI), AX
	ADCQ -120(DI), AX
	ADCQ -112(DI), AX
	ADCQ -104(DI), AX
	ADCQ -96(DI), AX
	ADCQ -88(DI), AX
	ADCQ -80(DI), AX
	ADCQ -72(DI), AX
	ADCQ -64(DI), AX
	ADCQ -56(DI), AX
	ADCQ -48(DI), AX
	ADCQ -40(DI), AX
	ADCQ -32(DI), AX
	ADCQ -24(DI), AX
	ADCQ -16(DI), AX
	ADCQ -8(DI), AX
	LEAQ 128(DI), DI
	DECQ BX
	JPL  round

	// The last r bytes added with the words' last carry, then that addition's carry (it cannot carry
	// again: R9 < 2^63, so that after a carry out AX < 2^63); the sum put in big-endian terms; s added;
	// folded.
	ADCQ R9, AX
	ADCQ $0, AX
	ROLQ $8, AX
	ADDQ s+0(FP), AX
	ADCQ $0, AX
	MOVL AX, DX
	SHRQ $32, AX
	ADDQ DX, AX
	MOVQ AX, ret+32(FP)
	RET

// func sumSwap(s uint64, p *byte, n int) uint64
//
// sumSwap (see csum.go) is sum16's words and tail, from s, with neither sum16's rotation back to
// big-endian terms nor its fold: the little-endian words' sum with end-around carry, the last
// n%8 bytes as sum16 takes them and s added to those (R9 + s < 2^63: no carry there, and the
// ADCQ $0 after the last one cannot carry again). Its rounds are of 32 words (256 bytes), where
// sum16's are of 16: a transport segment of up to 256 bytes (most of fastUsual's) takes one round, and
// the round's end (LEAQ, DECQ, JPL) once. Each of a round's ADCQs is 4 bytes long as in sum16: DI
// points 132 bytes before the round's end, so that the 32 words are at DI-124 to DI+124, each
// displacement one byte and none 0. The first round is entered part way, at the ADCQ of its
// m = (W-1)%32 + 1 last words (W: the whole words), 4(m-1) bytes before the round's last ADCQ
// (at sumSwap+128+124).
TEXT ·sumSwap(SB), NOSPLIT|NOFRAME, $0-32
	MOVQ n+16(FP), CX
	MOVQ p+8(FP), SI
	CMPQ CX, $8
	JLT  tiny

	LEAQ -8(CX), BX             // 8(W-1) + n%8
	MOVQ BX, DX
	ANDQ $0xf8, DX              // 8(m-1)
	LEAQ -124(SI)(DX*1), DI     // the first round's end (p + 8m) less 132
	SHRQ $1, DX                 // 4(m-1)
	SHRQ $8, BX                 // the rounds after the first
	LEAQ ·sumSwap+252(SB), R8   // round's last ADCQ
	SUBQ DX, R8

	// The last r = n%8 bytes and s (R9), before the words.
	MOVQ -8(SI)(CX*1), R9
	SHLQ $3, CX
	NOTQ CX
	SHRQ $1, R9
	SHRQ CX, R9
	ADDQ s+0(FP), R9

	XORL AX, AX // the sum, and the carry flag clear
	JMP  R8

tiny:
	JMP ·sumSwapShort(SB)

	// At 128 bytes into sumSwap (TestSumSwap takes every entry, and fails if the round is not there).
	PCALIGN $128

round:
	ADCQ -124(DI), AX
	ADCQ -116(DI), AX
	ADCQ -108(DI), AX
	ADCQ -100(DI), AX
	ADCQ -92(DI), AX
	ADCQ -84(DI), AX
	ADCQ -76(DI), AX
	ADCQ -68(DI), AX
	ADCQ -60(DI), AX
	ADCQ -52(DI), AX
	ADCQ -44(DI), AX
	ADCQ -36(DI), AX
	ADCQ -28(DI), AX
	ADCQ -20(DI), AX
	ADCQ -12(DI), AX
	ADCQ -4(DI), AX
	ADCQ 4(DI), AX
	ADCQ 12(DI), AX
	ADCQ 20(DI), AX
	ADCQ 28(DI), AX
	ADCQ 36(DI), AX
	ADCQ 44(DI), AX
	ADCQ 52(DI), AX
	ADCQ 60(DI), AX
	ADCQ 68(DI), AX
	ADCQ 76(DI), AX
	ADCQ 84(DI), AX
	ADCQ 92(DI), AX
	ADCQ 100(DI), AX
	ADCQ 108(DI), AX
	ADCQ 116(DI), AX
	ADCQ 124(DI), AX
	LEAQ 256(DI), DI
	DECQ BX
	JPL  round

	ADCQ R9, AX
	ADCQ $0, AX
	MOVQ AX, ret+24(FP)
	RET

// func sumTransport4(ip *byte, tl int) uint64
//
// sumTransport4 is sumSwap((ip[9]+tl-20)<<8, ip+12, tl-12) for the IPv4 packet at ip of total length
// tl >= 28 with a 20-byte header: the sum of its TCP or UDP segment (ip+20 to ip+tl) with the
// pseudo-header, the addresses (ip+12 to ip+20, just before the segment) summed with it and the
// protocol and the segment's length given as the sum's start, made here from ip and tl (fastUsual
// stored three arguments it had computed: the start, the words' pointer and their count). Its setup
// is sumSwap's with n = tl-12 (at least 16: no test of fewer than 8), in terms of tl: the segment ends
// at ip+tl, its last n%8 bytes shifted by ^(8n) mod 64, which is ^(8tl+32) mod 64 (8n = 8tl-96);
// the start is AX's first value, where sumSwap adds it to the last bytes and clears AX (the carry
// flag, which that clearing cleared, is clear after the SUBQ before the jump: no borrow). Its rounds
// are sumSwap's (its own copy: the result's slot is not sumSwap's), the first round's end at
// ip+12+8m less 132, its last ADCQ at sumTransport4+252 (TestSumTransport4 takes every entry).
TEXT ·sumTransport4(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ ip+0(FP), SI
	MOVQ tl+8(FP), CX
	MOVBQZX 9(SI), AX           // the protocol
	LEAQ -20(AX)(CX*1), AX      // and the segment's length: the start, in the words' terms (×2^8)
	SHLQ $8, AX

	// The last r = n%8 bytes (R9): the segment's last 8 bytes shifted right by 1 and then by 63-8r.
	MOVQ -8(SI)(CX*1), R9
	LEAQ -20(CX), BX            // 8(W-1) + n%8
	LEAQ 32(CX*8), CX
	NOTQ CX
	SHRQ $1, R9
	SHRQ CX, R9

	MOVQ BX, DX
	ANDQ $0xf8, DX              // 8(m-1)
	LEAQ -112(SI)(DX*1), DI     // the first round's end (ip+12 + 8m) less 132
	SHRQ $1, DX                 // 4(m-1)
	SHRQ $8, BX                 // the rounds after the first
	LEAQ ·sumTransport4+252(SB), R8 // the round's last ADCQ
	SUBQ DX, R8                 // (no borrow: the carry flag clear)
	JMP  R8

	PCALIGN $128

round:
	ADCQ -124(DI), AX
	ADCQ -116(DI), AX
	ADCQ -108(DI), AX
	ADCQ -100(DI), AX
	ADCQ -92(DI), AX
	ADCQ -84(DI), AX
	ADCQ -76(DI), AX
	ADCQ -68(DI), AX
	ADCQ -60(DI), AX
	ADCQ -52(DI), AX
	ADCQ -44(DI), AX
	ADCQ -36(DI), AX
	ADCQ -28(DI), AX
	ADCQ -20(DI), AX
	ADCQ -12(DI), AX
	ADCQ -4(DI), AX
	ADCQ 4(DI), AX
	ADCQ 12(DI), AX
	ADCQ 20(DI), AX
	ADCQ 28(DI), AX
	ADCQ 36(DI), AX
	ADCQ 44(DI), AX
	ADCQ 52(DI), AX
	ADCQ 60(DI), AX
	ADCQ 68(DI), AX
	ADCQ 76(DI), AX
	ADCQ 84(DI), AX
	ADCQ 92(DI), AX
	ADCQ 100(DI), AX
	ADCQ 108(DI), AX
	ADCQ 116(DI), AX
	ADCQ 124(DI), AX
	LEAQ 256(DI), DI
	DECQ BX
	JPL  round

	ADCQ R9, AX
	ADCQ $0, AX
	MOVQ AX, ret+16(FP)
	RET
