/*
 * pdm.c - PDM double buffering by event counting.
 *
 * The k-th STARTED event (k = 0, 1, ...) means the DMA has latched
 * SAMPLE.PTR; the firmware answers by pointing SAMPLE.PTR at buffer
 * (k + 1) % 2 for the following block.  The k-th END event means buffer k % 2
 * is full.  Counting keeps both sequences right on silicon, where STARTED
 * comes a block ahead of END, and in Renode, where each block raises STARTED
 * and END at the same instant and is written at the SAMPLE.PTR of that
 * instant.  When the firmware falls behind (events are sticky flags), both
 * count one and the parity is preserved: the returned block is the latest
 * one Renode wrote, or on silicon an older, intact one.
 */
#include "pdm.h"

#include <stddef.h>

#include "board.h"
#include "nrf52840.h"

static int16_t *buffers[2];
static uint32_t block_samples;
static uint32_t started_count;
static uint32_t end_count;
static int running;

void kws_pdm_start(int16_t *buffer0, int16_t *buffer1, uint32_t frames)
{
    if (running) {
        return;
    }
    running = 1;
    buffers[0] = buffer0;
    buffers[1] = buffer1;
    block_samples = frames * KWS_PDM_FRAME_SAMPLES;
#ifdef KWS_MIC_POWER_PIN
    GPIO_OUTSET(KWS_MIC_POWER_PORT) = 1u << KWS_MIC_POWER_PIN;
    GPIO_DIRSET(KWS_MIC_POWER_PORT) = 1u << KWS_MIC_POWER_PIN;
#endif
    PDM_PSEL_CLK = KWS_PSEL(KWS_PDM_CLK_PORT, KWS_PDM_CLK_PIN);
    PDM_PSEL_DIN = KWS_PSEL(KWS_PDM_DIN_PORT, KWS_PDM_DIN_PIN);
    PDM_PDMCLKCTRL = PDM_PDMCLKCTRL_1280K;
    PDM_RATIO = PDM_RATIO_80;
    PDM_MODE = PDM_MODE_MONO;
    PDM_GAINL = PDM_GAIN_0DB;
    PDM_SAMPLE_PTR = (uint32_t)(uintptr_t)buffers[0];
    PDM_SAMPLE_MAXCNT = block_samples;
    PDM_EVENTS_STARTED = KWS_EVENT_CLEAR;
    PDM_EVENTS_END = KWS_EVENT_CLEAR;
    started_count = 0;
    end_count = 0;
    PDM_ENABLE = 1;
    PDM_TASKS_START = KWS_TRIGGER; /* after ENABLE, else the task is ignored */
}

int kws_pdm_running(void) { return running; }

size_t kws_pdm_block_samples(void) { return block_samples; }

const int16_t *kws_pdm_poll_block(void)
{
    if (PDM_EVENTS_STARTED != 0) {
        PDM_EVENTS_STARTED = KWS_EVENT_CLEAR;
        started_count++;
        PDM_SAMPLE_PTR = (uint32_t)(uintptr_t)buffers[started_count % 2];
    }
    if (PDM_EVENTS_END == 0) {
        return NULL;
    }
    PDM_EVENTS_END = KWS_EVENT_CLEAR;
    return buffers[end_count++ % 2];
}
