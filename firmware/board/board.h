/*
 * board.h - pin assignment, chosen at build time with -DKWS_BOARD_<NAME>
 * (Makefile: BOARD=dk | nano33ble; dk is the default).
 *
 * nRF52840-DK (PCA10056): UART through the J-Link virtual COM port (TX P0.06,
 *   RX P0.08).  The DK has no microphone: wire a PDM microphone breakout to
 *   the Arduino header, CLK P0.28 (A2), DIN P0.29 (A3); both pins are free on
 *   the DK (P0.25 would collide with button 4).
 * Arduino Nano 33 BLE Sense (Rev1/Rev2): UART on header pins D1/TX = P1.03,
 *   D0/RX = P1.10 (the USB port is the nRF's own USB device, which this
 *   firmware does not drive: use a 3.3 V USB-serial adapter); on-board PDM
 *   microphone CLK P0.26, DIN P0.25, powered from P0.17 driven high.
 *
 * Renode ignores pin selection, so both boards run unchanged on its stock
 * nrf52840.repl.
 */
#ifndef KWS_BOARD_BOARD_H
#define KWS_BOARD_BOARD_H

#if defined(KWS_BOARD_NANO33BLE)
#define KWS_BOARD_NAME "nano33ble"
#define KWS_UART_TX_PORT 1
#define KWS_UART_TX_PIN 3
#define KWS_UART_RX_PORT 1
#define KWS_UART_RX_PIN 10
#define KWS_PDM_CLK_PORT 0
#define KWS_PDM_CLK_PIN 26
#define KWS_PDM_DIN_PORT 0
#define KWS_PDM_DIN_PIN 25
#define KWS_MIC_POWER_PORT 0
#define KWS_MIC_POWER_PIN 17
#elif defined(KWS_BOARD_DK)
#define KWS_BOARD_NAME "dk"
#define KWS_UART_TX_PORT 0
#define KWS_UART_TX_PIN 6
#define KWS_UART_RX_PORT 0
#define KWS_UART_RX_PIN 8
#define KWS_PDM_CLK_PORT 0
#define KWS_PDM_CLK_PIN 28
#define KWS_PDM_DIN_PORT 0
#define KWS_PDM_DIN_PIN 29
#else
#error "define KWS_BOARD_DK or KWS_BOARD_NANO33BLE (Makefile: BOARD=dk|nano33ble)"
#endif

#endif /* KWS_BOARD_BOARD_H */
