/*
 * fault.c - prints the faulting context from the stacked frame, keeps it in
 * .noinit for the next boot, then halts.
 */
#include "fault.h"

#include <stdint.h>

#include "line.h"
#include "nrf52840.h"
#include "uarte.h"

/* Exception frame pushed by the core: r0-r3, r12, lr, pc, xpsr. */
enum { FRAME_LR = 5, FRAME_PC = 6, FRAME_PSR = 7 };

#define FAULT_RECORD_MAGIC 0x544C4146u /* "FALT" */

/* Survives a reset (startup never touches .noinit): the next boot reports it. */
__attribute__((section(".noinit"))) struct kws_fault_record kws_fault_record;

int kws_fault_take_previous(uint32_t *pc)
{
    if (kws_fault_record.magic != FAULT_RECORD_MAGIC) {
        return 0;
    }
    *pc = kws_fault_record.pc;
    kws_fault_record.magic = 0;
    return 1;
}

__attribute__((used, noreturn)) static void fault_report(const uint32_t *frame, uint32_t ipsr)
{
    kws_fault_record.pc = frame[FRAME_PC];
    kws_fault_record.magic = FAULT_RECORD_MAGIC;
    struct kws_line line;
    kws_line_begin(&line, "fault");
    kws_line_hex(&line, "pc", frame[FRAME_PC]);
    kws_line_hex(&line, "lr", frame[FRAME_LR]);
    kws_line_hex(&line, "psr", frame[FRAME_PSR]);
    kws_line_hex(&line, "cfsr", SCB_CFSR);
    kws_line_hex(&line, "hfsr", SCB_HFSR);
    kws_line_hex(&line, "mmfar", SCB_MMFAR);
    kws_line_hex(&line, "bfar", SCB_BFAR);
    kws_line_u32(&line, "exc", ipsr & 0x1FFu);
    kws_line_send(&line);
    kws_uarte_flush();
    for (;;) {
        __asm volatile("wfi"); /* no interrupts are enabled: sleeps for good */
    }
}

/* Naked: picks the stack the frame was pushed on (EXC_RETURN bit 2) before
 * any compiler-generated code can move the stack pointer. */
__attribute__((naked)) void kws_fault_handler(void)
{
    __asm volatile("tst lr, #4\n\t"
                   "ite eq\n\t"
                   "mrseq r0, msp\n\t"
                   "mrsne r0, psp\n\t"
                   "mrs r1, ipsr\n\t"
                   "b fault_report\n");
}
