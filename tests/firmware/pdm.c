/* PDM streaming firmware: double-buffered 20 ms blocks at 16 kHz, one checksum line per block. */
#include "hal.h"

#define BLOCK 320u

static int16_t buf[2][BLOCK];

int main(void)
{
    uart_init();
    dwt_enable();
    PDM_PDMCLKCTRL = 0x0A000000; /* 1.280 MHz */
    PDM_RATIO = 1;               /* x80: 16 kHz */
    PDM_MODE = 1;                /* mono */
    PDM_SAMPLE_MAXCNT = BLOCK;
    PDM_SAMPLE_PTR = (uint32_t)buf[0];
    PDM_ENABLE = 1;
    uint32_t t_start = DWT_CYCCNT;
    PDM_TASKS_START = 1;
    put_str("boot t=");
    put_u32(t_start);
    put_str("\n");
    for (uint32_t k = 0;; k++) {
        while (!PDM_EVENTS_END) {
        }
        uint32_t t = DWT_CYCCNT;
        PDM_EVENTS_END = 0;
        PDM_EVENTS_STARTED = 0;
        PDM_SAMPLE_PTR = (uint32_t)buf[(k + 1) & 1];
        const int16_t *samples = buf[k & 1];
        uint32_t w0 = DWT_CYCCNT;
        int32_t sum = 0;
        uint32_t hash = 2166136261u;
        for (uint32_t i = 0; i < BLOCK; i++) {
            sum += samples[i];
            hash = (hash ^ (uint16_t)samples[i]) * 16777619u;
        }
        uint32_t work = DWT_CYCCNT - w0;
        put_str("block i=");
        put_u32(k);
        put_str(" sum=");
        put_i32(sum);
        put_str(" hash=");
        put_u32(hash);
        put_str(" t=");
        put_u32(t);
        put_str(" work=");
        put_u32(work);
        put_str("\n");
    }
}
