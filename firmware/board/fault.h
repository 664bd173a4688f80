/* fault.h - fault reporting over the UART. */
#ifndef KWS_BOARD_FAULT_H
#define KWS_BOARD_FAULT_H

/*
 * Handler for HardFault and every other exception vector: prints
 * `fault pc=0x... lr=0x... psr=0x... cfsr=0x... hfsr=0x... mmfar=0x... bfar=0x... exc=N`
 * from the stacked exception frame and the SCB fault registers, then halts.
 * exc is the active exception number (3 = HardFault).
 */
void kws_fault_handler(void);

#endif /* KWS_BOARD_FAULT_H */
