/* fault.h - fault reporting over the UART. */
#ifndef KWS_BOARD_FAULT_H
#define KWS_BOARD_FAULT_H

#include <stdint.h>

/*
 * Handler for HardFault and every other exception vector: prints
 * `fault pc=0x... lr=0x... psr=0x... cfsr=0x... hfsr=0x... mmfar=0x... bfar=0x... exc=N`
 * from the stacked exception frame and the SCB fault registers, then halts.
 * exc is the active exception number (3 = HardFault).
 */
void kws_fault_handler(void);

/* The last fault's program counter, kept in .noinit across a reset (not a power cycle). */
struct kws_fault_record {
    uint32_t magic;
    uint32_t pc;
};

extern struct kws_fault_record kws_fault_record;

/* 1 and the pc if the core faulted before this boot (the record is then cleared), else 0. */
int kws_fault_take_previous(uint32_t *pc);

#endif /* KWS_BOARD_FAULT_H */
