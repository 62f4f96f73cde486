/*
 * Wire constants of USB, DFU 1.1 and ST's DfuSe extension, shared by the host code and the
 * device model (sim/ includes this and nothing else of the host side).
 * Sources: DFU 1.1 spec (DFU11) §3, §4.1.3, §6.1.2; AN3156 §3-5; USB 2.0 §9.
 */
#ifndef DFU_PROTO_H
#define DFU_PROTO_H

#include <stdint.h>

/* USB standard requests and descriptor types (USB 2.0 §9.4, Table 9-5). */
enum {
	USB_REQ_GET_STATUS = 0x00,
	USB_REQ_CLEAR_FEATURE = 0x01,
	USB_REQ_SET_FEATURE = 0x03,
	USB_REQ_SET_ADDRESS = 0x05,
	USB_REQ_GET_DESCRIPTOR = 0x06,
	USB_REQ_GET_CONFIGURATION = 0x08,
	USB_REQ_SET_CONFIGURATION = 0x09,
	USB_REQ_GET_INTERFACE = 0x0A,
	USB_REQ_SET_INTERFACE = 0x0B,
};
enum {
	USB_DT_DEVICE = 0x01,
	USB_DT_CONFIG = 0x02,
	USB_DT_STRING = 0x03,
	USB_DT_INTERFACE = 0x04,
	USB_DT_DFU_FUNCTIONAL = 0x21,
};
/* bmRequestType values used here. */
enum {
	USB_RT_STD_IN_DEVICE = 0x80,
	USB_RT_STD_OUT_DEVICE = 0x00,
	USB_RT_STD_IN_INTERFACE = 0x81,
	USB_RT_STD_OUT_INTERFACE = 0x01,
	USB_RT_CLASS_OUT_INTERFACE = 0x21,
	USB_RT_CLASS_IN_INTERFACE = 0xA1,
};
#define USB_DIR_IN 0x80

/* A USB SETUP packet, host order. */
struct usb_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue;
	uint16_t wIndex;
	uint16_t wLength;
};

/* DFU class requests (DFU11 Table 3.2). */
enum dfu_request {
	DFU_DETACH = 0,
	DFU_DNLOAD = 1,
	DFU_UPLOAD = 2,
	DFU_GETSTATUS = 3,
	DFU_CLRSTATUS = 4,
	DFU_GETSTATE = 5,
	DFU_ABORT = 6,
};

/* DFU states (DFU11 §6.1.2), spelled as dfu-util does. */
enum dfu_state {
	appIDLE = 0,
	appDETACH = 1,
	dfuIDLE = 2,
	dfuDNLOAD_SYNC = 3,
	dfuDNBUSY = 4,
	dfuDNLOAD_IDLE = 5,
	dfuMANIFEST_SYNC = 6,
	dfuMANIFEST = 7,
	dfuMANIFEST_WAIT_RESET = 8,
	dfuUPLOAD_IDLE = 9,
	dfuERROR = 10,
};
#define DFU_STATE_COUNT 11

/* DFU status codes (DFU11 §6.1.2). */
enum dfu_status {
	DFU_STATUS_OK = 0x00,
	errTARGET = 0x01,
	errFILE = 0x02,
	errWRITE = 0x03,
	errERASE = 0x04,
	errCHECK_ERASED = 0x05,
	errPROG = 0x06,
	errVERIFY = 0x07,
	errADDRESS = 0x08,
	errNOTDONE = 0x09,
	errFIRMWARE = 0x0A,
	errVENDOR = 0x0B,
	errUSBR = 0x0C,
	errPOR = 0x0D,
	errUNKNOWN = 0x0E,
	errSTALLEDPKT = 0x0F,
};
#define DFU_STATUS_COUNT 16

/* GETSTATUS reply length and layout (DFU11 §6.1.2). */
#define DFU_STATUS_LEN 6

/* DFU functional descriptor (DFU11 §4.1.3). */
#define DFU_FUNC_DESC_LEN 9
enum {
	DFU_ATTR_CAN_DNLOAD = 0x01,
	DFU_ATTR_CAN_UPLOAD = 0x02,
	DFU_ATTR_MANIFEST_TOLERANT = 0x04,
	DFU_ATTR_WILL_DETACH = 0x08,
};
#define DFU_VERSION_DFUSE 0x011A
#define DFU_VERSION_1_1 0x0110

/* DfuSe commands: DNLOAD with wValue 0, byte 0 is the command (AN3156 §5). */
enum dfuse_command {
	DFUSE_CMD_GET = 0x00,
	DFUSE_CMD_SET_ADDRESS = 0x21,
	DFUSE_CMD_ERASE = 0x41,
	DFUSE_CMD_READ_UNPROTECT = 0x92,
};
/* Data blocks start at wBlockNum 2: address = pointer + (wBlockNum - 2) * wTransferSize. */
#define DFUSE_FIRST_DATA_BLOCK 2

/* ST ROM bootloader USB identity. */
#define STM32_ROM_VID 0x0483
#define STM32_ROM_PID 0xDF11

/* Memory-layout sector type letters: low 3 bits of (letter - 'a' + 1) (dfu-util dfuse_mem.c). */
enum {
	DFUSE_MEM_READABLE = 1,
	DFUSE_MEM_ERASABLE = 2,
	DFUSE_MEM_WRITABLE = 4,
};

#endif
