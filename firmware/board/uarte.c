/* uarte.c - UARTE0 EasyDMA transmit and byte-wise receive. */
#include "uarte.h"

#include <string.h>

#include "board.h"
#include "kws_config.h"
#include "nrf52840.h"

#if KWS_UART_BAUD != 115200
#error "uarte.c maps only KWS_UART_BAUD 115200 to a BAUDRATE value"
#endif

/* Chunk size of a TX transfer; one protocol line fits in one chunk. */
#define TX_CHUNK 128

static char tx_buffer[TX_CHUNK];
static volatile uint8_t rx_byte;

static void arm_rx(volatile uint8_t *dst)
{
    UARTE0_RXD_PTR = (uint32_t)(uintptr_t)dst;
    UARTE0_RXD_MAXCNT = 1;
    /* ENDRX must be clear before STARTRX: Renode holds queued bytes back while it is set. */
    UARTE0_EVENTS_ENDRX = KWS_EVENT_CLEAR;
    UARTE0_TASKS_STARTRX = KWS_TRIGGER;
}

void kws_uarte_init(void)
{
    /* TX idles high: drive the pin as an output so the line stays defined. */
    GPIO_OUTSET(KWS_UART_TX_PORT) = 1u << KWS_UART_TX_PIN;
    GPIO_DIRSET(KWS_UART_TX_PORT) = 1u << KWS_UART_TX_PIN;
    UARTE0_PSEL_TXD = KWS_PSEL(KWS_UART_TX_PORT, KWS_UART_TX_PIN);
    UARTE0_PSEL_RXD = KWS_PSEL(KWS_UART_RX_PORT, KWS_UART_RX_PIN);
    UARTE0_PSEL_RTS = KWS_PSEL_DISCONNECTED;
    UARTE0_PSEL_CTS = KWS_PSEL_DISCONNECTED;
    UARTE0_BAUDRATE = UARTE_BAUDRATE_115200;
    UARTE0_CONFIG = 0; /* no parity, one stop bit, no flow control */
    UARTE0_ENABLE = UARTE_ENABLE_ENABLED;
    arm_rx(&rx_byte);
}

void kws_uarte_write(const char *data, size_t n)
{
    while (n > 0) {
        size_t chunk = n < TX_CHUNK ? n : TX_CHUNK;
        memcpy(tx_buffer, data, chunk);
        UARTE0_TXD_PTR = (uint32_t)(uintptr_t)tx_buffer;
        UARTE0_TXD_MAXCNT = chunk;
        UARTE0_EVENTS_ENDTX = KWS_EVENT_CLEAR;
        UARTE0_TASKS_STARTTX = KWS_TRIGGER;
        while (UARTE0_EVENTS_ENDTX == 0) {
        }
        data += chunk;
        n -= chunk;
    }
}

int kws_uarte_poll_byte(uint8_t *byte)
{
    if (UARTE0_EVENTS_ENDRX == 0) {
        return 0;
    }
    *byte = rx_byte;
    arm_rx(&rx_byte);
    return 1;
}

void kws_uarte_read(uint8_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (!kws_uarte_poll_byte(&dst[i])) {
        }
    }
}
