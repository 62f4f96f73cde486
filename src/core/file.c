#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int file_read_all(const char *path, uint8_t **out, size_t *len, struct err *e)
{
	return file_read_all_max(path, 0, out, len, e);
}

int file_read_all_max(const char *path, uint64_t max, uint8_t **out, size_t *len, struct err *e)
{
	*out = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, STM32DFU_E_FILE_IO, "%s: %s", path, strerror(errno));
	/* checked before reading: /dev/zero never ends, and a sparse 3 GiB file costs its size in memory */
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return err_set(e, STM32DFU_E_FILE_IO, "%s is not a regular file", path);
	}
	if (max && (uint64_t)st.st_size > max) {
		fclose(f);
		return err_set(e, STM32DFU_E_FILE_FORMAT, "%s is %llu bytes, more than any firmware file can be (%llu MiB)",
		               path, (unsigned long long)st.st_size, (unsigned long long)(max >> 20));
	}
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 2) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(buf);
				fclose(f);
				return err_set(e, STM32DFU_E_NO_MEMORY, "%s: out of memory reading", path);
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	int io = ferror(f);
	fclose(f);
	if (io) {
		free(buf);
		return err_set(e, STM32DFU_E_FILE_IO, "%s: read error", path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Creates p's leading folders up to and including the component that ends at p[upto]. */
static int make_dirs_upto(const char *path, size_t upto, struct err *e)
{
	char p[4096];
	if (upto >= sizeof p)
		return err_set(e, STM32DFU_E_FILE_IO, "%.64s...: path too long to create its folders", path);
	memcpy(p, path, upto);
	p[upto] = '\0';
	for (size_t i = 1; i <= upto; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char keep = p[i];
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			int saved = errno;
			err_set(e, STM32DFU_E_FILE_IO, "cannot create the folder %s: %s", p, strerror(saved));
			errno = saved;
			return STM32DFU_E_FILE_IO;
		}
		p[i] = keep;
	}
	return 0;
}

int file_make_dirs(const char *dir, struct err *e)
{
	return make_dirs_upto(dir, strlen(dir), e);
}

int file_make_parent_dirs(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	return slash && slash != path ? make_dirs_upto(path, (size_t)(slash - path), e) : 0;
}
