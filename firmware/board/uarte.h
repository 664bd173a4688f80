/*
 * uarte.h - UARTE0 with EasyDMA only, 115200 8N1, no flow control, polled.
 *
 * TX copies into a RAM buffer (EasyDMA cannot read flash on silicon) and
 * waits for ENDTX.  RX receives one byte per DMA transfer (MAXCNT = 1),
 * re-armed after each ENDRX: Renode queues bytes that arrive between ENDRX
 * and the next STARTRX and hands out exactly one per STARTRX, and the chip
 * holds them in its RX FIFO, so nothing is lost either way while the caller
 * keeps polling.
 */
#ifndef KWS_BOARD_UARTE_H
#define KWS_BOARD_UARTE_H

#include <stddef.h>
#include <stdint.h>

/* Configures pins and baud rate, enables UARTE0 and arms reception. */
void kws_uarte_init(void);

/* Sends n bytes and returns when the last DMA transfer has ended. */
void kws_uarte_write(const char *data, size_t n);

/* Non-blocking: returns 1 and stores a received byte in *byte, else 0. */
int kws_uarte_poll_byte(uint8_t *byte);

/* Blocking: receives exactly n bytes into dst (any RAM address). */
void kws_uarte_read(uint8_t *dst, size_t n);

#endif /* KWS_BOARD_UARTE_H */
