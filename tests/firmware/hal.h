/* The few nRF52840 registers the test firmwares touch, and UART helpers (EasyDMA only). */
#ifndef TEST_HAL_H
#define TEST_HAL_H
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define CLOCK_TASKS_HFCLKSTART REG(0x40000000)
#define CLOCK_EVENTS_HFCLKSTARTED REG(0x40000100)

#define UARTE0 0x40002000u
#define UARTE_TASKS_STARTRX REG(UARTE0 + 0x000)
#define UARTE_TASKS_STARTTX REG(UARTE0 + 0x008)
#define UARTE_EVENTS_RXDRDY REG(UARTE0 + 0x108)
#define UARTE_EVENTS_ENDRX REG(UARTE0 + 0x110)
#define UARTE_EVENTS_ENDTX REG(UARTE0 + 0x120)
#define UARTE_ENABLE REG(UARTE0 + 0x500)
#define UARTE_TXD_LEGACY REG(UARTE0 + 0x51C)
#define UARTE_RXD_PTR REG(UARTE0 + 0x534)
#define UARTE_RXD_MAXCNT REG(UARTE0 + 0x538)
#define UARTE_RXD_AMOUNT REG(UARTE0 + 0x53C)
#define UARTE_TXD_PTR REG(UARTE0 + 0x544)
#define UARTE_TXD_MAXCNT REG(UARTE0 + 0x548)

#define PDM 0x4001D000u
#define PDM_TASKS_START REG(PDM + 0x000)
#define PDM_TASKS_STOP REG(PDM + 0x004)
#define PDM_EVENTS_STARTED REG(PDM + 0x100)
#define PDM_EVENTS_END REG(PDM + 0x108)
#define PDM_ENABLE REG(PDM + 0x500)
#define PDM_PDMCLKCTRL REG(PDM + 0x504)
#define PDM_MODE REG(PDM + 0x508)
#define PDM_RATIO REG(PDM + 0x520)
#define PDM_SAMPLE_PTR REG(PDM + 0x560)
#define PDM_SAMPLE_MAXCNT REG(PDM + 0x564)

#define DWT_CTRL REG(0xE0001000)
#define DWT_CYCCNT REG(0xE0001004)
#define SCB_CPACR REG(0xE000ED88)
#define DEMCR REG(0xE000EDFC)

void uart_init(void);
void uart_write(const char *buf, uint32_t len);
void put_str(const char *s);
void put_u32(uint32_t v);
void put_i32(int32_t v);
int uart_getc(void);
void dwt_enable(void);

#endif
