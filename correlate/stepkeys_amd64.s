#include "textflag.h"
#include "go_asm.h"

// func stepKeysAsm(m *matcher, stage *sighting, keys []uint64) (n int, fresh bool)
//
// stepKeysGo (match.go) written out: the same tests, in the same order, and the same writes (see
// there and step). The loop's values stay in registers (stepKeysGo's reloaded five of them and
// spilled its index at every sighting), the matcher's fields it reads are memory operands, and the
// journey found is one pointer. It reads nothing but what stepKeysGo reads: where stepKeysGo's bounds
// checks would panic (the closed journeys' table, jT0's blocks), it leaves the sighting, nothing
// written, to stepNew, which makes the same checks.
//
// AX the matcher, BX the stage, SI the next key, DI the keys' end, DX the ring, R8 the loose index's
// buckets and R9 its mask; for a sighting: R10 its offset in the stage (its fields read at BX+R10),
// R11 its NAT-tolerant fingerprint, R12 its time, R13 the journey (its id in the walk); CX and R15
// temporaries.
TEXT ·stepKeysAsm(SB), NOSPLIT|NOFRAME, $0-49
	MOVQ m+0(FP), AX
	MOVQ stage+8(FP), BX
	MOVQ keys_base+16(FP), SI
	MOVQ keys_len+24(FP), DI
	LEAQ (SI)(DI*8), DI
	MOVQ matcher_ring(AX), DX
	MOVQ matcher_loose(AX), CX
	MOVQ multimap_head(CX), R8
	MOVQ multimap_mask(CX), R9

	CMPQ SI, DI
	JEQ  leave

next:
	MOVL (SI), R10 // the sighting's offset in the stage: its key's low 32 bits
	MOVQ sighting_t(BX)(R10*1), R12
	CMPQ R12, matcher_evictAt(AX)
	JGT  leave
	MOVBLZX sighting_kind(BX)(R10*1), CX
	ANDL $(const_sMatchable|const_sTCPData6), CX
	CMPL CX, $const_sMatchable
	JNE  leave
	MOVQ sighting_loose(BX)(R10*1), R11
	MOVL R11, R13 // hash32
	ANDQ R9, R13
	MOVL (R8)(R13*4), R13
	DECL R13

walk: // the chain's first journey of the sighting's fingerprint
	CMPL R13, matcher_base(AX)
	JLT  begin
	ANDL matcher_mask(AX), R13
	SHLQ $7, R13 // (jstate__size)
	ADDQ DX, R13
	CMPQ jstate_loose(R13), R11
	JEQ  found
	MOVL jstate_nextSame(R13), R13
	JMP  walk

found:
	MOVQ sighting_e(BX)(R10*1), CX
	CMPQ jstate_exact(R13), CX
	JEQ  inWindow
	CMPQ jstate_exact0(R13), CX
	JNE  leave

inWindow:
	MOVQ R12, CX
	SUBQ jstate_lastTs(R13), CX
	ADDQ matcher_window(AX), CX
	CMPQ CX, matcher_winEnd(AX)
	JCC  leave
	MOVL sighting_bit(BX)(R10*1), CX
	TESTL CX, jstate_stageBits(R13)
	JNE  visited

alone: // no other open journey of the fingerprint after it in the chain (none when jAlone)
	TESTB $const_jAlone, jstate_flags(R13)
	JNE  attach
	MOVL jstate_nextSame(R13), R15

others:
	CMPL R15, matcher_base(AX)
	JLT  attach
	ANDL matcher_mask(AX), R15
	SHLQ $7, R15
	ADDQ DX, R15
	CMPQ jstate_loose(R15), R11
	JEQ  leave
	MOVL jstate_nextSame(R15), R15
	JMP  others

visited: // its stage's bit set: the stages read (visitedBit)
	MOVL sighting_stage(BX)(R10*1), CX
	MOVBLZX jstate_nstages(R13), R15

stages: // (from the last)
	DECL R15
	JLT  alone
	CMPL jstate_stages(R13)(R15*4), CX
	JEQ  leave
	JMP  stages

attach: // attach(j, s, s.stage, s.node), as stepKeysGo writes it out
	CMPQ R12, jstate_lastTs(R13)
	JLE  notLater
	MOVQ R12, jstate_lastTs(R13)
	JMP  addStage

notLater:
	CMPL jstate_hops(R13), $0
	JEQ  addStage
	ORB  $const_jOutOfOrder, jstate_flags(R13)

addStage:
	MOVBLZX jstate_nstages(R13), R15
	CMPL R15, $const_maxStages
	JCC  moved
	MOVL sighting_stage(BX)(R10*1), CX
	MOVL CX, jstate_stages(R13)(R15*4)
	INCL R15
	MOVB R15, jstate_nstages(R13)
	MOVL sighting_bit(BX)(R10*1), CX
	ORL  CX, jstate_stageBits(R13)

moved:
	MOVW sighting_node(BX)(R10*1), CX
	CMPW CX, jstate_lastNode(R13)
	JEQ  hop
	MOVW CX, jstate_lastNode(R13)
	MOVBLZX jstate_flags(R13), CX // flags |= flags&jMoved<<1 | jMoved (jOutOfOrder is jMoved<<1)
	MOVL CX, R15
	ANDL $const_jMoved, R15
	SHLL $1, R15
	ORL  R15, CX
	ORL  $const_jMoved, CX
	MOVB CX, jstate_flags(R13)

hop:
	MOVL sighting_g(BX)(R10*1), CX
	MOVL CX, jstate_lastG(R13)
	MOVL jstate_hops(R13), CX
	SHLQ $const_rankShift, CX
	MOVL jstate_id1(R13), R15
	ORQ  R15, CX
	MOVQ sighting_slot(BX)(R10*1), R15
	MOVQ CX, (R15)
	INCL jstate_hops(R13)
	ADDQ $8, SI
	CMPQ SI, DI
	JNE  next
	JMP  leave

begin: // step's new journey, in beginUsual's usual case (any other left to stepNew: fresh)
	CMPL matcher_usualLeft(AX), $0
	JEQ  fresh
	MOVQ sighting_e(BX)(R10*1), CX
	MOVQ CX, R15
	ANDQ $(const_closedSlots-1), R15
	CMPQ R15, matcher_closedExact+8(AX)
	JCC  fresh
	MOVQ matcher_closedExact(AX), R13
	CMPQ (R13)(R15*8), CX
	JEQ  fresh
	TESTB $const_sTCPData, sighting_kind(BX)(R10*1)
	JNE  fresh
	MOVL sighting_g(BX)(R10*1), R15
	INCL R15
	CMPL R15, matcher_natRevG(AX)
	JEQ  fresh
	CMPB matcher_passed+passedStages_n(AX), $0
	JNE  fresh
	MOVQ matcher_jT0+times_n(AX), R15 // jT0's block: jT0.blocks[n/timesBlock][n%timesBlock]
	SHRQ $16, R15 // (timesBlock)
	CMPQ R15, matcher_jT0+times_blocks+8(AX)
	JCC  fresh
	LEAQ (R15)(R15*2), R15
	MOVQ matcher_jT0+times_blocks(AX), R13
	LEAQ (R13)(R15*8), R13 // the block's slice
	MOVQ matcher_jT0+times_n(AX), R15
	ANDQ $(const_timesBlock-1), R15
	CMPQ R15, 8(R13)
	JCC  fresh
	MOVQ (R13), R13
	LEAQ (R13)(R15*8), R15
	MOVQ R12, (R15) // (jT0.append)
	INCQ matcher_jT0+times_n(AX)
	DECL matcher_usualLeft(AX)
	MOVL matcher_next(AX), R15 // j
	INCL matcher_next(AX) // (newJourney)
	MOVL R15, R13
	ANDL matcher_mask(AX), R13
	SHLQ $7, R13
	ADDQ DX, R13
	MOVQ CX, jstate_exact(R13)
	MOVQ CX, jstate_exact0(R13)
	MOVQ R11, jstate_loose(R13)
	MOVQ R12, jstate_lastTs(R13)
	MOVL R11, R12 // the bucket
	ANDQ R9, R12
	LEAQ (R8)(R12*4), R12
	MOVL (R12), CX
	DECL CX
	MOVL CX, jstate_nextSame(R13)
	MOVL sighting_g(BX)(R10*1), CX
	MOVL CX, jstate_lastG(R13)
	MOVQ $0, jstate_seq(R13) // seq and plen
	MOVB $1, jstate_nstages(R13)
	MOVB $(const_jIndexed|const_jAlone), jstate_flags(R13)
	MOVW sighting_node(BX)(R10*1), CX
	MOVW CX, jstate_lastNode(R13)
	MOVL sighting_bit(BX)(R10*1), CX
	MOVL CX, jstate_stageBits(R13)
	MOVL $1, jstate_hops(R13)
	MOVL sighting_stage(BX)(R10*1), CX
	MOVL CX, jstate_stages(R13)
	LEAL 1(R15), CX // j + 1
	MOVL CX, jstate_id1(R13)
	MOVL CX, (R12)
	MOVLQSX R15, R15 // uint64(j) + 1 (rank 0)
	INCQ R15
	MOVQ sighting_slot(BX)(R10*1), CX
	MOVQ R15, (CX)
	ADDQ $8, SI
	CMPQ SI, DI
	JNE  next

leave: // the sighting at SI left to step (SI at the end: none)
	SUBQ keys_base+16(FP), SI
	SHRQ $3, SI
	MOVQ SI, n+40(FP)
	MOVB $0, fresh+48(FP)
	RET

fresh:
	SUBQ keys_base+16(FP), SI
	SHRQ $3, SI
	MOVQ SI, n+40(FP)
	MOVB $1, fresh+48(FP)
	RET
