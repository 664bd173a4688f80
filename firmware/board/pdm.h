/*
 * pdm.h - PDM microphone, EasyDMA, mono, 16 kHz (PDMCLK 1.280 MHz / RATIO 80),
 * double-buffered blocks of KWS_PDM_BLOCK_SAMPLES, polled.
 *
 * 320 samples = 20 ms = one frontend step; it divides 16000 as Renode's PDM
 * model needs (it fires at the integer quotient sampleRate / MAXCNT).
 */
#ifndef KWS_BOARD_PDM_H
#define KWS_BOARD_PDM_H

#include <stdint.h>

#include "kws_config.h"

#define KWS_PDM_BLOCK_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_STEP_MS / 1000)

/* Powers the microphone where the board switches it, configures and starts
 * sampling, which then runs until reset; later calls do nothing. */
void kws_pdm_start(void);

/* Non-blocking: returns the block the DMA just completed, or NULL.  The block
 * stays valid for 20 ms (until the DMA comes back to that buffer). */
const int16_t *kws_pdm_poll_block(void);

#endif /* KWS_BOARD_PDM_H */
