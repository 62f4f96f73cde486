/*
 * A small client of our USART stack (serial/ + uart/an3155) for the stm32flash peer test, until
 * the stm32dfu command line speaks USART: it reads, writes and verifies over a serial port so
 * stm32flash and our code each check what the other wrote.
 *   uart_tool PORT BAUD info
 *   uart_tool PORT BAUD read ADDR LEN FILE
 *   uart_tool PORT BAUD write ADDR FILE          (erases the pages it covers first; verifies)
 *   uart_tool PORT BAUD verify ADDR FILE
 * Exit 0 on success, 1 with a message otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial/serial.h"
#include "uart/an3155.h"

static int die(struct an3155 *b, const char *what)
{
	fprintf(stderr, "uart_tool: %s: %s\n", what, b->err.msg);
	if (b->err.hint[0])
		fprintf(stderr, "hint: %s\n", b->err.hint);
	return 1;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = malloc(1 << 24);
	*n = buf ? fread(buf, 1, 1 << 24, f) : 0;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fputs("usage: uart_tool PORT BAUD (info | read ADDR LEN FILE | write ADDR FILE | verify ADDR FILE)\n", stderr);
		return 2;
	}
	struct err e;
	err_clear(&e);
	struct ser *s;
	if (ser_open(argv[1], (unsigned)strtoul(argv[2], NULL, 0), &s, &e) < 0) {
		fprintf(stderr, "uart_tool: %s\n", e.msg);
		return 1;
	}
	struct an3155 b;
	an3155_init(&b, s);
	int rc = 0;
	if (an3155_connect(&b) < 0) {
		rc = die(&b, "connect");
		goto out;
	}
	const char *cmd = argv[3];
	if (!strcmp(cmd, "info")) {
		char v[8];
		an3155_version_text(b.version, v, sizeof v);
		printf("version %s\npid 0x%03x\ncommands", v, b.pid);
		for (size_t i = 0; i < b.ncmds; i++)
			printf(" %02x", b.cmds[i]);
		printf("\n");
	} else if (!strcmp(cmd, "read") && argc == 7) {
		uint32_t addr = (uint32_t)strtoul(argv[4], NULL, 0);
		size_t len = strtoul(argv[5], NULL, 0);
		unsigned char *buf = malloc(len ? len : 1);
		if (an3155_read_all(&b, addr, buf, len) < 0) {
			rc = die(&b, "read");
		} else {
			FILE *f = fopen(argv[6], "wb");
			rc = !f || fwrite(buf, 1, len, f) != len || fclose(f) != 0;
		}
		free(buf);
	} else if ((!strcmp(cmd, "write") || !strcmp(cmd, "verify")) && argc == 6) {
		uint32_t addr = (uint32_t)strtoul(argv[4], NULL, 0);
		size_t n;
		unsigned char *data = slurp(argv[5], &n);
		if (!data || n % 4) {
			fprintf(stderr, "uart_tool: %s: unreadable or not a multiple of 4 bytes\n", argv[5]);
			free(data);
			rc = 1;
			goto out;
		}
		if (!strcmp(cmd, "write")) {
			/* F4 sectors 16/16/16/16/64/128 KiB from 0x08000000: erase those the file covers */
			static const uint32_t sec[] = {16, 16, 16, 16, 64, 128, 128, 128};
			uint16_t pages[8];
			size_t np = 0;
			uint32_t a = 0x08000000;
			for (size_t i = 0; i < 8; i++) {
				uint32_t end = a + sec[i] * 1024;
				if (addr < end && addr + n > a)
					pages[np++] = (uint16_t)i;
				a = end;
			}
			if (an3155_erase_pages(&b, pages, np) < 0) {
				rc = die(&b, "erase");
				free(data);
				goto out;
			}
			for (size_t off = 0; off < n && !rc; off += 256) {
				size_t k = n - off < 256 ? n - off : 256;
				if (an3155_write(&b, addr + (uint32_t)off, data + off, k) < 0)
					rc = die(&b, "write");
			}
		}
		unsigned char *back = malloc(n);
		if (!rc && an3155_read_all(&b, addr, back, n) < 0)
			rc = die(&b, "read back");
		for (size_t i = 0; !rc && i < n; i++)
			if (back[i] != data[i]) {
				fprintf(stderr, "uart_tool: differs at 0x%08zx: 0x%02x, file 0x%02x\n", addr + i, back[i], data[i]);
				rc = 1;
			}
		free(back);
		free(data);
	} else {
		fprintf(stderr, "uart_tool: bad command\n");
		rc = 2;
	}
out:
	ser_close(s);
	return rc;
}
