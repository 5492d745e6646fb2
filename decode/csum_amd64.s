#include "textflag.h"

// func sum16(s uint64, b []byte) uint64
//
// sum16Go's sum (csum.go) with ADCQ from memory and one carry chain through all the words: the
// words' carries go into the next addition rather than being counted apart (LEAQ and DECQ, which
// move on and count, leave the carry flag as it is), so that an 8-byte word costs one instruction
// (sum16words). Every sum is kept modulo 2^64-1 (end-around carry) and put in big-endian terms by
// rotations, as sum16Go does it; the result is folded to 33 bits once.
//
// 8 bytes and more: the whole 8-byte words, then the last 8 bytes with those summed already masked
// off (the last word of tailMasks). A window that starts at an odd offset (that is, when len(b) is
// odd) has every byte in the wrong half of its 16-bit word: its sum is rotated by 8 bits, which
// puts them right (see sum16Go). Fewer than 8 bytes: sum16Short.
TEXT ·sum16(SB), NOSPLIT|NOFRAME, $0-40
	MOVQ b_len+16(FP), CX
	MOVQ b_base+8(FP), SI
	CMPQ CX, $8
	JLT  tiny

	// The W = len(b)/8 whole words (at least one), by sum16words: its rounds of 16 words, the first
	// entered part way so that it sums the first m = (W-1)%16 + 1 of them (1 to 16), then the
	// (W-1)/16 rounds after it. Each of a round's ADCQs is 4 bytes long: the first round starts
	// 4(m-1) bytes before the last one.
	LEAQ -8(CX), BX
	SHRQ $3, BX                 // W-1
	MOVQ BX, DX
	ANDQ $15, DX                // m-1
	SHRQ $4, BX                 // the rounds after the first
	LEAQ 8(SI)(DX*8), DI        // the first round's end: b + 8m
	SHLQ $2, DX
	LEAQ ·sum16words+60(SB), R8 // a round's last ADCQ
	SUBQ DX, R8
	XORL AX, AX                 // the sum, and the carry flag clear
	CALL R8
	ADCQ $0, AX                 // the last carry: cannot carry again (after a carry out AX ≤ 2^64-2)

	// The last 8 bytes masked to keep the last r = len(b)%8 (none for 0): tailMasks[32-r][3].
	MOVQ CX, DX
	ANDQ $7, DX
	SHLQ $5, DX
	LEAQ ·tailMasks+1048(SB), R8
	SUBQ DX, R8
	MOVQ 0(R8), R9
	ANDQ -8(SI)(CX*1), R9

	// The window's sum (R9) rotated by 8 bits when it starts at an odd offset, added with end-around
	// carry; the sum put in big-endian terms; s added; folded.
	ANDL $1, CX
	SHLL $3, CX
	ROLQ CX, R9
	ADDQ R9, AX
	ADCQ $0, AX
	ROLQ $8, AX
	ADDQ s+0(FP), AX
	ADCQ $0, AX
	MOVL AX, DX
	SHRQ $32, AX
	ADDQ DX, AX
	MOVQ AX, ret+32(FP)
	RET

tiny:
	JMP ·sum16Short(SB)

// sum16words is sum16's loop over whole 8-byte words (not a Go function: sum16 calls it part way
// in). A round adds the 16 words before DI to AX with the carry flag (each ADCQ 4 bytes long: a
// displacement of one byte, never 0), then moves DI on by 128 bytes, BX counting the rounds left
// (DECQ and LEAQ leave the carry flag). It returns with the last carry in the flag.
TEXT ·sum16words(SB), NOSPLIT|NOFRAME, $0-0
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
	RET
