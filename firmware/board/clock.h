/* clock.h - high-frequency clock source. */
#ifndef KWS_BOARD_CLOCK_H
#define KWS_BOARD_CLOCK_H

/* Starts the 64 MHz crystal oscillator (HFXO) and waits until it runs: UART
 * baud rates and the PDM clock are only accurate on the crystal. */
void kws_clock_start_hfxo(void);

#endif /* KWS_BOARD_CLOCK_H */
