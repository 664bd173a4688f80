/*
 * pause.h - a short busy wait between polls that found nothing to do.
 *
 * The firmware polls: PDM END, UARTE ENDTX/ENDRX, the command line.  Polling
 * back to back costs the chip nothing, but in an emulator every peripheral
 * read is a slow MMIO call (Renode), and a loop that reads registers without
 * pause spends almost all host time there.  A few thousand cycles of pause
 * when a poll found nothing keeps every deadline (the shortest is a UART byte,
 * 87 us at 115200 baud, buffered by the FIFO and EasyDMA; a PDM block is
 * 20 ms or more) and makes an idle second cost the emulator a few hundred
 * register reads instead of millions.
 *
 * KWS_PAUSE_SPINS iterations of a two-instruction loop: about 2,100 executed
 * instructions, 3,000 to 5,000 cycles on the chip (the branch refills the
 * pipeline; flash wait states depend on the cache), so at most ~80 us at 64 MHz.
 * The loop is in asm so the compiler cannot drop it.
 */
#ifndef KWS_BOARD_PAUSE_H
#define KWS_BOARD_PAUSE_H

#include <stdint.h>

#define KWS_PAUSE_SPINS 1024u

static inline void kws_pause(void)
{
    uint32_t n = KWS_PAUSE_SPINS;
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

#endif /* KWS_BOARD_PAUSE_H */
