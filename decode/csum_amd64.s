#include "textflag.h"

// func sum16(s uint64, b []byte) uint64
//
// sum16Go's sum (csum.go) with ADCQ from memory and one carry chain through all the words: the
// words' carries go into the next addition rather than being counted apart (LEAQ and DECQ, which
// move on and count the loop, leave the carry flag as it is), so that a 32-byte block costs seven
// instructions, not fourteen. Every sum is kept modulo 2^64-1 (end-around carry) and put in
// big-endian terms by rotations, as sum16Go does it; the result is folded to 33 bits once.
//
// 32 bytes and more: whole 32-byte blocks, then the last 32 bytes with those summed already masked
// off (tailMasks). 8 to 31 bytes: whole 8-byte words, then the last 8 bytes with those summed
// already masked off (the last word of the same masks). A window that starts at an odd offset
// (that is, when len(b) is odd) has every byte in the wrong half of its 16-bit word: its sum is
// rotated by 8 bits, which puts them right (see sum16Go). Fewer than 8 bytes: sum16Short.
TEXT ·sum16(SB), NOSPLIT, $0-40
	MOVQ b_len+16(FP), CX
	MOVQ b_base+8(FP), SI
	CMPQ CX, $32
	JLT  short
	LEAQ -32(SI)(CX*1), DI // the last 32 bytes
	MOVQ CX, BX
	SHRQ $5, BX            // whole blocks, at least one
	XORL AX, AX            // the sum, and the carry flag clear
blocks:
	ADCQ 0(SI), AX
	ADCQ 8(SI), AX
	ADCQ 16(SI), AX
	ADCQ 24(SI), AX
	LEAQ 32(SI), SI
	DECQ BX
	JNE  blocks
	ADCQ $0, AX            // the last carry: cannot carry again (after a carry out AX ≤ 2^64-2)

	// The window's words, each masked to keep the last r = len(b)%32 bytes: tailMasks[32-r].
	MOVQ CX, DX
	ANDQ $31, DX
	SHLQ $5, DX
	LEAQ ·tailMasks+1024(SB), R8
	SUBQ DX, R8
	MOVQ 0(R8), R9
	ANDQ 0(DI), R9
	MOVQ 8(R8), R10
	ANDQ 8(DI), R10
	MOVQ 16(R8), R11
	ANDQ 16(DI), R11
	MOVQ 24(R8), R12
	ANDQ 24(DI), R12
	ADDQ R10, R9
	ADCQ R11, R9
	ADCQ R12, R9
	ADCQ $0, R9
	JMP  window

short:
	CMPQ CX, $8
	JLT  tiny
	LEAQ -8(SI)(CX*1), DI // the last 8 bytes
	MOVQ CX, BX
	SHRQ $3, BX           // whole words, one to three
	XORL AX, AX
words:
	ADCQ 0(SI), AX
	LEAQ 8(SI), SI
	DECQ BX
	JNE  words
	ADCQ $0, AX

	// The last 8 bytes masked to keep the last r = len(b)%8: tailMasks[32-r][3].
	MOVQ CX, DX
	ANDQ $7, DX
	SHLQ $5, DX
	LEAQ ·tailMasks+1048(SB), R8
	SUBQ DX, R8
	MOVQ 0(R8), R9
	ANDQ 0(DI), R9

window:
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
