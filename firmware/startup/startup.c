/*
 * startup.c - vector table and reset handler for the nRF52840.
 *
 * Reset: enable the FPU (the frontend and compiler-generated code may use
 * VFP registers; without CPACR access they raise a NOCP UsageFault), copy
 * .data from flash, zero .bss, paint the stack reserve (board/stack.h), then
 * main.
 */
#include <stdint.h>

#include "fault.h"
#include "nrf52840.h"
#include "stack.h"

/* 16 system exceptions + 48 nRF52840 interrupts (PS: "Peripheral interface", IDs 0-47). */
#define VECTOR_COUNT (16 + 48)

int main(void);
void kws_reset_handler(void);

/* Linker script symbols (ld/nrf52840.ld). */
extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

typedef void (*vector_fn)(void);

/* Every vector other than reset reports a fault: interrupts are never enabled. */
__attribute__((section(".vectors"), used)) static const vector_fn vectors[VECTOR_COUNT] = {
    [0] = (vector_fn)(uintptr_t)&_estack,
    [1] = kws_reset_handler,
    [2 ... VECTOR_COUNT - 1] = kws_fault_handler,
};

/* Nothing here may touch VFP registers before CPACR is written, and the
 * copy loops run before .data/.bss are valid: keep this function plain. */
__attribute__((noreturn)) void kws_reset_handler(void)
{
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    __asm volatile("dsb\n\tisb" ::: "memory");

    const uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    kws_stack_paint();

    main();
    for (;;) {
        __asm volatile("wfi");
    }
}
