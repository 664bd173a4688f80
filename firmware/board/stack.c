/* stack.c - see stack.h. */
#include "stack.h"

#include <stdint.h>

/* Linker script symbols (ld/nrf52840.ld): the reserve is [_sstack, _estack). */
extern uint32_t _sstack, _estack;

/* A leaf without a frame of its own below sp: the words it paints are free. */
void kws_stack_paint(void)
{
    uint32_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = &_sstack; p < sp; p++) {
        *p = KWS_STACK_PAINT;
    }
}

uint32_t kws_stack_peak_bytes(void)
{
    const uint32_t *p = &_sstack;
    while (p < &_estack && *p == KWS_STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

uint32_t kws_stack_reserve_bytes(void) { return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack); }
