/*
 * uarte.h - UARTE0 with EasyDMA only, 115200 8N1, no flow control, polled, never blocking a block.
 *
 * TX: kws_uarte_write copies a line into a RAM ring (EasyDMA cannot read flash) and returns;
 * kws_uarte_service, called from every polling loop, sends the ring chunk by chunk (one EasyDMA
 * transfer per contiguous run, the next one started once ENDTX is seen).  A line that does not fit
 * the ring is dropped whole and counted (kws_uarte_tx_dropped), so printing costs only the copy
 * and the audio path never waits for the wire (11.5 bytes per millisecond at 115200 baud).
 *
 * RX: one EasyDMA transfer is always armed, re-armed in software as soon as its ENDRX is seen
 * (Renode 1.15.1 has no SHORTS; on the chip the UARTE's 5-byte RX FIFO holds what arrives in
 * between).  Between commands the transfers are one byte long, so each byte is seen at once; a
 * block announced with kws_uarte_expect (clip audio) comes in 64-byte transfers into two
 * alternating buffers, so the CPU may work on one chunk while the next arrives at wire speed.
 * EVENTS_ERROR is checked on every service: an overrun (bytes lost while the CPU did not re-arm
 * in time) is counted (kws_uarte_rx_overruns) and flagged for the reader (kws_uarte_take_rx_loss).
 */
#ifndef KWS_BOARD_UARTE_H
#define KWS_BOARD_UARTE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the TX ring: a profile report (the largest burst, ~350 bytes) fits twice. */
#define KWS_UARTE_TX_RING 1024

/* Configures pins and baud rate, enables UARTE0 and arms reception. */
void kws_uarte_init(void);

/* Queues all n bytes, or none (counted as a dropped write) when the ring lacks room; never waits. */
void kws_uarte_write(const char *data, size_t n);

/* Non-blocking: moves the transmitter and the receiver on and checks for errors. */
void kws_uarte_service(void);

/* Waits until every queued byte has left the wire (the fault report, before the core sleeps). */
void kws_uarte_flush(void);

/* Non-blocking: returns 1 and stores a received byte in *byte, else 0. */
int kws_uarte_poll_byte(uint8_t *byte);

/* The next n bytes received are one block: taken in 64-byte transfers (kws_uarte_read). */
void kws_uarte_expect(size_t n);

/* Blocking (servicing the UART meanwhile): receives exactly n bytes into dst. */
void kws_uarte_read(uint8_t *dst, size_t n);

/* 1 (once) when received bytes were lost since the last call (ERRORSRC.OVERRUN), else 0. */
int kws_uarte_take_rx_loss(void);

/* Since reset: writes dropped for lack of ring space, RX overruns. */
uint32_t kws_uarte_tx_dropped(void);
uint32_t kws_uarte_rx_overruns(void);

#endif /* KWS_BOARD_UARTE_H */
