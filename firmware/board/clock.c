/* clock.c - HFXO start-up by polling CLOCK's HFCLKSTARTED event. */
#include "clock.h"

#include "nrf52840.h"

void kws_clock_start_hfxo(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = KWS_EVENT_CLEAR;
    CLOCK_TASKS_HFCLKSTART = KWS_TRIGGER;
    while (CLOCK_EVENTS_HFCLKSTARTED == 0) {
    }
}
