/* A firmware that misbehaves on cue, for the Robot suites' own tests: it boots like the project
 * firmware (a boot line naming variant "defect"), then reads 20 ms PDM blocks and acts on the
 * first sample of each: 1 faults (udf), 2 stores to flash, 3 reads an unmodelled register,
 * 4 reports a keyword (a heard line); anything else prints a block line. */
#include "hal.h"

#define BLOCK 320u

static int16_t buf[2][BLOCK];

static void act(int16_t cue, uint32_t k)
{
    switch (cue) {
    case 1:
        __asm__ volatile("udf #1");
        break;
    case 2:
        REG(0x000F0000) = k;
        break;
    case 3:
        (void)REG(0x40000400); /* POWER.RESETREAS: CLOCK's page, not modelled */
        break;
    case 4:
        put_str("heard label=yes score=100 t_ms=");
        put_u32(20 * (k + 1));
        put_str("\n");
        return;
    default:
        break;
    }
    put_str("block i=");
    put_u32(k);
    put_str("\n");
}

int main(void)
{
    uart_init();
    PDM_PDMCLKCTRL = 0x0A000000; /* 1.280 MHz */
    PDM_RATIO = 1;               /* x80: 16 kHz */
    PDM_MODE = 1;                /* mono */
    PDM_SAMPLE_MAXCNT = BLOCK;
    PDM_SAMPLE_PTR = (uint32_t)buf[0];
    PDM_ENABLE = 1;
    PDM_TASKS_START = 1;
    put_str("boot variant=defect kernels=none\n");
    for (uint32_t k = 0;; k++) {
        while (!PDM_EVENTS_END) {
        }
        PDM_EVENTS_END = 0;
        PDM_SAMPLE_PTR = (uint32_t)buf[(k + 1) & 1];
        act(buf[k & 1][0], k);
    }
}
