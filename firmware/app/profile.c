/* profile.c - rings of recent stage cycle counts and their min/max/average. */
#include "profile.h"

#include "kws_config.h"
#include "line.h"
#include "stack.h"
#include "uarte.h"

struct stage_ring {
    uint32_t cycles[KWS_PROFILE_WINDOW];
    uint32_t next;
    uint32_t count;
    uint32_t peak; /* the worst since reset */
};

static struct stage_ring rings[KWS_STAGE_COUNT];
static const char *const stage_names[KWS_STAGE_COUNT] = {"pre", "inf", "post", "busy"};

void kws_profile_add(enum kws_stage stage, uint32_t cycles)
{
    struct stage_ring *ring = &rings[stage];
    ring->cycles[ring->next] = cycles;
    ring->next = (ring->next + 1) % KWS_PROFILE_WINDOW;
    if (ring->count < KWS_PROFILE_WINDOW) {
        ring->count++;
    }
    ring->peak = cycles > ring->peak ? cycles : ring->peak;
}

void kws_profile_report(void)
{
    for (int s = 0; s < KWS_STAGE_COUNT; s++) {
        const struct stage_ring *ring = &rings[s];
        if (ring->count == 0) {
            continue;
        }
        uint32_t min = UINT32_MAX, max = 0;
        uint64_t sum = 0;
        for (uint32_t i = 0; i < ring->count; i++) {
            uint32_t c = ring->cycles[i];
            min = c < min ? c : min;
            max = c > max ? c : max;
            sum += c;
        }
        struct kws_line line;
        kws_line_begin(&line, "profile");
        kws_line_str(&line, "stage", stage_names[s]);
        kws_line_u32(&line, "n", ring->count);
        kws_line_u32(&line, "min", min);
        kws_line_u32(&line, "max", max);
        kws_line_u32(&line, "avg", (uint32_t)(sum / ring->count));
        kws_line_u32(&line, "peak", ring->peak);
        kws_line_send(&line);
    }
    struct kws_line uart;
    kws_line_begin(&uart, "profile");
    kws_line_str(&uart, "stage", "uart");
    kws_line_u32(&uart, "tx_dropped", kws_uarte_tx_dropped());
    kws_line_u32(&uart, "rx_overrun", kws_uarte_rx_overruns());
    kws_line_send(&uart);
    struct kws_line line;
    kws_line_begin(&line, "profile");
    kws_line_str(&line, "stage", "stack");
    kws_line_u32(&line, "peak", kws_stack_peak_bytes());
    kws_line_u32(&line, "reserve", kws_stack_reserve_bytes());
    kws_line_send(&line);
}
