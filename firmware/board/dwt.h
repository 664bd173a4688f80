/* dwt.h - the core's cycle counter (DWT CYCCNT), for stage timing. */
#ifndef KWS_BOARD_DWT_H
#define KWS_BOARD_DWT_H

#include <stdint.h>

/* Enables trace (DEMCR.TRCENA) and the cycle counter (DWT_CTRL.CYCCNTENA), from zero.
 * Renode's stock platform has no DWT (CYCCNT reads 0) unless a suite adds one. */
void kws_dwt_init(void);

/* Current CYCCNT; wraps every 2^32 cycles (67 s at 64 MHz): subtract as uint32_t. */
uint32_t kws_dwt_cycles(void);

#endif /* KWS_BOARD_DWT_H */
