/*
 * ELF32 little-endian (System V gABI): the loadable contents a flash programmer needs.
 *
 * Linked executables: each PT_LOAD program header with file bytes goes to its physical address
 * (p_paddr, the load address), which is where a linker script's "AT>" puts initialised data in
 * flash; the bss part (p_memsz beyond p_filesz) is not part of the flash image, as with
 * `objcopy -O binary`. Files without program headers (relocatable objects, such as
 * `objcopy -I binary -O elf32-littlearm` makes): every SHF_ALLOC section that is not SHT_NOBITS
 * goes to its address.
 */
#include "image/fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rd.h"

#define PT_LOAD 1
#define SHT_NOBITS 8
#define SHF_ALLOC 0x2

static int bad(struct err *e, const char *name, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int bad(struct err *e, const char *name, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	err_set(e, STM32DFU_E_FILE_FORMAT, "%s: %s", name, what);
	return STM32DFU_E_FILE_FORMAT;
}

/* A table of count entries of size entsize at off must lie inside the file. */
static bool table_fits(size_t n, uint32_t off, uint32_t entsize, uint32_t count)
{
	uint64_t bytes = (uint64_t)entsize * count;
	return off <= n && bytes <= n - off;
}

static int add_chunk(struct img *img, const uint8_t *p, size_t n, const char *name,
		     const char *what, unsigned idx, uint32_t addr, uint32_t off, uint32_t size,
		     struct err *e)
{
	if (off > n || size > n - off) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s: %s %u: %u bytes at file offset 0x%X run past the end of the file "
			"(%zu bytes)", name, what, idx, (unsigned)size, (unsigned)off, n);
		err_hint(e, "the file is truncated or corrupt");
		return STM32DFU_E_FILE_FORMAT;
	}
	if ((uint64_t)addr + size > 0x100000000ull) {
		err_set(e, STM32DFU_E_FILE_FORMAT, "%s: %s %u: %u bytes at 0x%08X run past 4 GiB",
			name, what, idx, (unsigned)size, (unsigned)addr);
		return STM32DFU_E_FILE_FORMAT;
	}
	int rc = img_add(img, 0, addr, p + off, size, e);
	if (rc)
		return err_prefix(e, "%s: %s %u", name, what, idx);
	return 0;
}

/* A loaded part of the file: its bytes [off, off+size) and the header that names it. */
struct span {
	uint32_t off, size;
	unsigned idx;
};

static int span_cmp(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	return a->off < b->off ? -1 : a->off > b->off ? 1 : (a->idx > b->idx) - (a->idx < b->idx);
}

/*
 * No byte of the file is loaded twice: headers whose file ranges overlap would let a small file
 * load any amount (65,535 program headers naming one 64 KiB block made a 2.1 MB ELF load 4.2 GB),
 * so the loaded total is bounded by the file's size. Checked before anything is loaded.
 */
static int check_spans(struct span *sp, size_t k, const char *name, const char *what, struct err *e)
{
	qsort(sp, k, sizeof *sp, span_cmp);
	for (size_t i = 1; i < k; i++) {
		if ((uint64_t)sp[i - 1].off + sp[i - 1].size > sp[i].off) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: %ss %u and %u load the same bytes of the file (offsets 0x%X and 0x%X)", name,
				what, sp[i - 1].idx, sp[i].idx, (unsigned)sp[i - 1].off, (unsigned)sp[i].off);
			err_hint(e, "a linked program loads each part of its file once: the file is corrupt or crafted");
			return STM32DFU_E_FILE_FORMAT;
		}
	}
	return 0;
}

static int elf_spans(const uint8_t *p, size_t n, const char *name, bool phdrs, uint32_t tab, uint32_t entsize,
                     unsigned count, struct err *e)
{
	struct span *sp = malloc((count ? count : 1) * sizeof *sp);
	if (!sp)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	size_t k = 0;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *h = p + tab + (size_t)i * entsize;
		uint32_t off, size;
		if (phdrs) {
			if (get_le32(h) != PT_LOAD || get_le32(h + 16) == 0)
				continue;
			off = get_le32(h + 4);
			size = get_le32(h + 16);
		} else {
			uint32_t type = get_le32(h + 4), flags = get_le32(h + 8);
			size = get_le32(h + 20);
			if (!(flags & SHF_ALLOC) || type == SHT_NOBITS || size == 0)
				continue;
			off = get_le32(h + 16);
		}
		if (off > n || size > n - off)
			continue; /* add_chunk names it */
		sp[k++] = (struct span){off, size, i};
	}
	int rc = check_spans(sp, k, name, phdrs ? "program header" : "section", e);
	free(sp);
	return rc;
}

int img_read_elf(struct img *img, const uint8_t *p, size_t n, const char *name, struct err *e)
{
	if (n < 52 || memcmp(p, "\x7f" "ELF", 4) != 0)
		return bad(e, name, "not an ELF file, or shorter than the 52-byte ELF32 header "
			   "(%zu bytes)", n);
	if (p[4] != 1)
		return bad(e, name, "ELF class %u, expected 1 (32-bit)", p[4]);
	if (p[5] != 1)
		return bad(e, name, "ELF data encoding %u, expected 1 (little-endian)", p[5]);
	struct rd r;
	rd_init(&r, p, n);
	rd_seek(&r, 24);
	uint32_t entry = rd_le32(&r);
	uint32_t phoff = rd_le32(&r);
	uint32_t shoff = rd_le32(&r);
	rd_skip(&r, 4 + 2); /* e_flags, e_ehsize */
	uint16_t phentsize = rd_le16(&r);
	uint16_t phnum = rd_le16(&r);
	uint16_t shentsize = rd_le16(&r);
	uint16_t shnum = rd_le16(&r);

	img->has_entry = entry != 0;
	img->entry = entry;

	unsigned loaded = 0;
	if (phnum) {
		if (phentsize < 32)
			return bad(e, name, "program header size %u, expected at least 32",
				   phentsize);
		if (!table_fits(n, phoff, phentsize, phnum))
			return bad(e, name, "program header table at 0x%X (%u entries) runs past "
				   "the end of the file", (unsigned)phoff, phnum);
		int src = elf_spans(p, n, name, true, phoff, phentsize, phnum, e);
		if (src)
			return src;
		for (unsigned i = 0; i < phnum; i++) {
			const uint8_t *h = p + phoff + (size_t)i * phentsize;
			uint32_t type = get_le32(h), off = get_le32(h + 4), paddr = get_le32(h + 12);
			uint32_t filesz = get_le32(h + 16), memsz = get_le32(h + 20);
			if (type != PT_LOAD || filesz == 0)
				continue;
			if (filesz > memsz)
				return bad(e, name, "program header %u: p_filesz %u larger than p_memsz "
					   "%u", i, (unsigned)filesz, (unsigned)memsz);
			int rc = add_chunk(img, p, n, name, "program header", i, paddr, off, filesz, e);
			if (rc)
				return rc;
			loaded++;
		}
	} else if (shnum) {
		if (shentsize < 40)
			return bad(e, name, "section header size %u, expected at least 40",
				   shentsize);
		if (!table_fits(n, shoff, shentsize, shnum))
			return bad(e, name, "section header table at 0x%X (%u entries) runs past "
				   "the end of the file", (unsigned)shoff, shnum);
		int src = elf_spans(p, n, name, false, shoff, shentsize, shnum, e);
		if (src)
			return src;
		for (unsigned i = 0; i < shnum; i++) {
			const uint8_t *h = p + shoff + (size_t)i * shentsize;
			uint32_t type = get_le32(h + 4), flags = get_le32(h + 8);
			uint32_t addr = get_le32(h + 12), off = get_le32(h + 16), size = get_le32(h + 20);
			if (!(flags & SHF_ALLOC) || type == SHT_NOBITS || size == 0)
				continue;
			int rc = add_chunk(img, p, n, name, "section", i, addr, off, size, e);
			if (rc)
				return rc;
			loaded++;
		}
	}
	if (!loaded) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s: no loadable data (no PT_LOAD program header or allocated section with "
			"file bytes)", name);
		err_hint(e, "link the program first: an object file or a debug-only ELF has nothing "
			    "to flash");
		return STM32DFU_E_FILE_FORMAT;
	}
	img->format = IMG_FMT_ELF;
	return 0;
}
