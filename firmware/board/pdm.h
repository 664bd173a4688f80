/*
 * pdm.h - PDM microphone, EasyDMA, mono, 16 kHz (PDMCLK 1.280 MHz / RATIO 80),
 * double-buffered blocks, polled.
 *
 * A block is `frames` frontend steps of KWS_PDM_FRAME_SAMPLES (20 ms) each,
 * chosen once when sampling starts.  Block sizes divide 16000 samples, as
 * Renode's PDM model needs (it fires at the integer quotient
 * sampleRate / MAXCNT, and a 1 s clip is then a whole number of blocks).
 */
#ifndef KWS_BOARD_PDM_H
#define KWS_BOARD_PDM_H

#include <stddef.h>
#include <stdint.h>

#include "kws_config.h"

#define KWS_PDM_FRAME_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_STEP_MS / 1000)

/*
 * Powers the microphone where the board switches it, configures and starts
 * sampling into the two buffers of `frames` * KWS_PDM_FRAME_SAMPLES samples
 * each, which then runs until reset; later calls do nothing.
 */
void kws_pdm_start(int16_t *buffer0, int16_t *buffer1, uint32_t frames);

/* 1 once kws_pdm_start has run. */
int kws_pdm_running(void);

/* Samples per block, fixed by the first kws_pdm_start. */
size_t kws_pdm_block_samples(void);

/* Non-blocking: returns the block the DMA just completed, or NULL.  The block
 * stays valid for one block time (until the DMA comes back to that buffer). */
const int16_t *kws_pdm_poll_block(void);

#endif /* KWS_BOARD_PDM_H */
