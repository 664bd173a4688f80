/*
 * stack.h - the stack reserve's high-water mark.
 *
 * The reset handler paints the whole reserve (ld/nrf52840.ld: _sstack up to
 * the stack pointer) with KWS_STACK_PAINT before anything else runs; the
 * deepest the stack has reached since is then the distance from the top of
 * the reserve to the lowest word that no longer holds the paint.
 */
#ifndef KWS_BOARD_STACK_H
#define KWS_BOARD_STACK_H

#include <stdint.h>

#define KWS_STACK_PAINT 0x4B535354u /* "TSSK" in memory order */

/* Fills the reserve below the caller's stack pointer; for the reset handler only. */
void kws_stack_paint(void);

/* Bytes of the reserve used so far (at the deepest point). */
uint32_t kws_stack_peak_bytes(void);

/* Size of the reserve (STACK_BYTES in the Makefile). */
uint32_t kws_stack_reserve_bytes(void);

#endif /* KWS_BOARD_STACK_H */
