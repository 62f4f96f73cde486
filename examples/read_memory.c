/*
 * Example: read memory with libstm32dfu, into a buffer and into a file.
 * Uses only the public header. Build against an installed library with
 *   cc read_memory.c $(pkg-config --cflags --libs stm32dfu)
 * Usage: read_memory ADDR LEN OUT_FILE [SIM_SPEC]   (OUT_FILE .bin, .hex or .srec)
 */
#include <stdio.h>
#include <stdlib.h>

#include <stm32dfu/stm32dfu.h>

static int fail(const char *what, const struct stm32dfu_session *s)
{
	struct stm32dfu_error e = stm32dfu_last_error(s);
	fprintf(stderr, "read_memory: %s: %s\n", what, e.message);
	if (e.hint && e.hint[0])
		fprintf(stderr, "hint: %s\n", e.hint);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s ADDR LEN OUT_FILE [SIM_SPEC]\n", argv[0]);
		return 2;
	}
	uint32_t addr = (uint32_t)strtoul(argv[1], NULL, 0);
	size_t len = (size_t)strtoul(argv[2], NULL, 0);
	struct stm32dfu_match m = {0};
	m.sim = argc > 4 ? argv[4] : NULL;
	/* the session's options (0.5): every read confirmed by a second one, as `stm32dfu
	 * --confirm-reads` does; size first, so that the structure can grow in later versions */
	struct stm32dfu_session_options o = {0};
	o.size = sizeof o;
	o.confirm_reads = 1;
	struct stm32dfu_session *s;
	if (stm32dfu_open_session(&m, &o, &s))
		return fail("open", NULL);
	unsigned char head[16];
	size_t n = len < sizeof head ? len : sizeof head;
	if (stm32dfu_read(s, addr, head, n)) {
		int r = fail("read", s);
		stm32dfu_close(s);
		return r;
	}
	printf("0x%08lX:", (unsigned long)addr);
	for (size_t i = 0; i < n; i++)
		printf(" %02x", head[i]);
	printf("\n");
	if (stm32dfu_read_file(s, addr, len, argv[3])) {
		int r = fail("read into a file", s);
		stm32dfu_close(s);
		return r;
	}
	printf("%zu bytes into %s\n", len, argv[3]);
	stm32dfu_close(s);
	return 0;
}
