#include "textflag.h"

// func journeysOfN(out *int32, ch *uint64, n int, rk uint32)
//
// journeysOfGo's out[i] = uint32(ch[i]) | uint32(ch[i]>>32)&rk for i below n, eight slots a turn:
// each 16-byte load holds two slots; SHUFPS gathers the low halves of four slots (0x88) and their
// high halves (0xDD) into one register each, the high halves are masked by rk (in every lane of X7)
// and or'ed into the low ones, and the four results stored as 16 bytes. The last n%8 one at a time.
TEXT ·journeysOfN(SB), NOSPLIT|NOFRAME, $0-28
	MOVQ out+0(FP), DI
	MOVQ ch+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL rk+24(FP), AX
	MOVQ AX, X7
	PSHUFD $0, X7, X7
	SUBQ $8, CX
	JLT  tail

eight:
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	MOVAPS X0, X2
	SHUFPS $0x88, X1, X0
	SHUFPS $0xDD, X1, X2
	PAND  X7, X2
	POR   X2, X0
	MOVOU X0, 0(DI)
	MOVAPS X3, X5
	SHUFPS $0x88, X4, X3
	SHUFPS $0xDD, X4, X5
	PAND  X7, X5
	POR   X5, X3
	MOVOU X3, 16(DI)
	ADDQ  $64, SI
	ADDQ  $32, DI
	SUBQ  $8, CX
	JGE   eight

tail:
	ADDQ $8, CX
	JLE  done

one:
	MOVQ  0(SI), BX
	MOVQ  BX, DX
	SHRQ  $32, DX
	ANDL  AX, DX
	ORL   DX, BX
	MOVL  BX, 0(DI)
	ADDQ  $8, SI
	ADDQ  $4, DI
	DECQ  CX
	JNZ   one

done:
	RET
