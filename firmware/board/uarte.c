/* uarte.c - UARTE0: TX from a RAM ring, RX by re-armed EasyDMA transfers (see uarte.h). */
#include "uarte.h"

#include <string.h>

#include "board.h"
#include "kws_config.h"
#include "nrf52840.h"
#include "pause.h"

#if KWS_UART_BAUD != 115200
#error "uarte.c maps only KWS_UART_BAUD 115200 to a BAUDRATE value"
#endif

#define RX_CHUNK 64 /* bytes per transfer of an expected block: 32 s16le samples */

_Static_assert((KWS_UARTE_TX_RING & (KWS_UARTE_TX_RING - 1)) == 0, "the TX ring size must be a power of two");

static char tx_ring[KWS_UARTE_TX_RING];
static uint32_t tx_head;     /* bytes queued since reset (free-running) */
static uint32_t tx_tail;     /* bytes sent since reset */
static uint32_t tx_inflight; /* bytes of the EasyDMA transfer under way, 0 when idle */
static uint32_t tx_dropped;

static uint8_t rx_buffers[2][RX_CHUNK];
static uint32_t rx_armed;     /* buffer the armed transfer fills */
static uint32_t rx_armed_len; /* its RXD.MAXCNT */
static uint32_t rx_ready_len; /* bytes in the other buffer, received and not all taken yet */
static uint32_t rx_ready_pos;
static uint32_t rx_expect; /* bytes of an announced block not yet covered by an armed transfer */
static uint32_t rx_overruns;
static int rx_lost;

static void arm_rx(void)
{
    uint32_t len = rx_expect < RX_CHUNK ? rx_expect : RX_CHUNK;
    len = len > 0 ? len : 1;
    rx_expect -= rx_expect > 0 ? len : 0;
    rx_armed_len = len;
    UARTE0_RXD_PTR = (uint32_t)(uintptr_t)rx_buffers[rx_armed];
    UARTE0_RXD_MAXCNT = len;
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
    arm_rx();
}

void kws_uarte_write(const char *data, size_t n)
{
    if (n > KWS_UARTE_TX_RING - (tx_head - tx_tail)) {
        tx_dropped++;
        return;
    }
    for (size_t done = 0; done < n;) {
        uint32_t offset = tx_head % KWS_UARTE_TX_RING;
        size_t run = KWS_UARTE_TX_RING - offset < n - done ? KWS_UARTE_TX_RING - offset : n - done;
        memcpy(&tx_ring[offset], data + done, run);
        tx_head += run;
        done += run;
    }
    kws_uarte_service();
}

static void service_tx(void)
{
    if (tx_inflight != 0) {
        if (UARTE0_EVENTS_ENDTX == 0) {
            return;
        }
        tx_tail += tx_inflight;
        tx_inflight = 0;
    }
    uint32_t pending = tx_head - tx_tail;
    if (pending == 0) {
        return;
    }
    uint32_t offset = tx_tail % KWS_UARTE_TX_RING;
    tx_inflight = pending < KWS_UARTE_TX_RING - offset ? pending : KWS_UARTE_TX_RING - offset;
    UARTE0_TXD_PTR = (uint32_t)(uintptr_t)&tx_ring[offset];
    UARTE0_TXD_MAXCNT = tx_inflight;
    UARTE0_EVENTS_ENDTX = KWS_EVENT_CLEAR;
    UARTE0_TASKS_STARTTX = KWS_TRIGGER;
}

static void service_rx(void)
{
    if (UARTE0_EVENTS_ERROR != 0) {
        UARTE0_EVENTS_ERROR = KWS_EVENT_CLEAR;
        uint32_t source = UARTE0_ERRORSRC;
        UARTE0_ERRORSRC = source;
        if (source & UARTE_ERRORSRC_OVERRUN) {
            rx_overruns++;
            rx_lost = 1;
        }
    }
    /* A full buffer is handed over once the previous one is taken; the FIFO covers the wait. */
    if (UARTE0_EVENTS_ENDRX == 0 || rx_ready_pos < rx_ready_len) {
        return;
    }
    rx_ready_len = rx_armed_len;
    rx_ready_pos = 0;
    rx_armed ^= 1u;
    arm_rx();
}

void kws_uarte_service(void)
{
    service_tx();
    service_rx();
}

void kws_uarte_flush(void)
{
    while (tx_head != tx_tail) {
        service_tx();
        if (tx_head != tx_tail) {
            kws_pause();
        }
    }
}

int kws_uarte_poll_byte(uint8_t *byte)
{
    kws_uarte_service();
    if (rx_ready_pos == rx_ready_len) {
        return 0;
    }
    *byte = rx_buffers[rx_armed ^ 1u][rx_ready_pos++];
    return 1;
}

void kws_uarte_expect(size_t n)
{
    /* The transfer armed now carries the block's first bytes. */
    rx_expect = n > rx_armed_len ? (uint32_t)n - rx_armed_len : 0;
}

void kws_uarte_read(uint8_t *dst, size_t n)
{
    while (n > 0) {
        kws_uarte_service();
        uint32_t available = rx_ready_len - rx_ready_pos;
        if (available == 0) {
            kws_pause(); /* a byte takes 87 us at 115200 baud: nothing to gain from polling faster */
            continue;
        }
        size_t take = available < n ? available : n;
        memcpy(dst, &rx_buffers[rx_armed ^ 1u][rx_ready_pos], take);
        rx_ready_pos += take;
        dst += take;
        n -= take;
    }
}

int kws_uarte_take_rx_loss(void)
{
    int lost = rx_lost;
    rx_lost = 0;
    return lost;
}

uint32_t kws_uarte_tx_dropped(void) { return tx_dropped; }

uint32_t kws_uarte_rx_overruns(void) { return rx_overruns; }
