/* dwt.c - DWT cycle counter set-up and read. */
#include "dwt.h"

#include "nrf52840.h"

void kws_dwt_init(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

uint32_t kws_dwt_cycles(void)
{
    return DWT_CYCCNT;
}
