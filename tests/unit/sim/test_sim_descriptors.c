/*
 * Every profile's USB descriptors against the real chips' dumps (issue 22): device, configuration,
 * interface and DFU functional descriptors and the strings, field by field, from whatever a real
 * listing shows: `dfu-util -l` lines (ver = bcdDevice, alt names, serial), `lsusb -v` (every
 * descriptor field), dmesg (bcdDevice and the three strings), `dfu-util -v` (attributes, detach
 * timeout, transfer size, DFU version, interface name), CubeProgrammer logs (manufacturer, product,
 * serial). Each fact a dump shows must equal what the emulator sends; a profile edit that drifts
 * from its chip fails here. Every profile is in the table, with its dumps or the reason it has
 * none, so a new profile cannot skip the check. Where a wire capture exists (the F0 ROM, sigrok),
 * every descriptor reply in it is compared byte for byte.
 */
#include "sim_test.h"

#include <ctype.h>

#define DATA SHARED_DATA_DIR "/"
#define PEER_REF SOURCE_ROOT "/tests/peer/ref/"

struct fact {
	char key[40];
	char val[300];
};

struct facts {
	struct fact f[128];
	size_t n;
};

static void put(struct facts *fs, const char *key, const char *val)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].key, key)) {
			snprintf(fs->f[i].val, sizeof fs->f[i].val, "%s", val);
			return;
		}
	assert_true(fs->n < sizeof fs->f / sizeof fs->f[0]);
	snprintf(fs->f[fs->n].key, sizeof fs->f[fs->n].key, "%s", key);
	snprintf(fs->f[fs->n].val, sizeof fs->f[fs->n].val, "%s", val);
	fs->n++;
}

static const char *get(const struct facts *fs, const char *key)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].key, key))
			return fs->f[i].val;
	return NULL;
}

static void puthex(struct facts *fs, const char *key, unsigned v)
{
	char b[16];
	snprintf(b, sizeof b, "0x%04x", v);
	put(fs, key, b);
}

/* "22.00" -> 0x2200, "1.1a" -> 0x011a: lsusb prints a BCD word as hex digits around a dot */
static unsigned bcd(const char *s)
{
	unsigned hi = (unsigned)strtoul(s, (char **)&s, 16);
	unsigned lo = *s == '.' ? (unsigned)strtoul(s + 1, NULL, 16) : 0;
	return hi << 8 | lo;
}

/* the text after `key` and one run of spaces, to the end of the line */
static bool after(const char *line, const char *key, char *out, size_t cap)
{
	/* a key written with a leading space also matches at the start of the line (forum copies
	 * lose lsusb's indentation) */
	const char *p = strstr(line, key);
	size_t skip = strlen(key);
	if (!p && key[0] == ' ' && !strncmp(line, key + 1, skip - 1)) {
		p = line;
		skip--;
	}
	if (!p)
		return false;
	p += skip;
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, "\r\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* Every fact the text shows, in the emulator's terms (see the keys in sim_facts). */
static void dump_facts(const char *text, struct facts *fs)
{
	char line[1024], v[300];
	int alt = -1, max_alt = -1;
	bool in_dfu = false, in_config = false;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
		p += n + (p[n] == '\n');
		if (line[0] == '#')
			continue; /* our own header lines */
		const char *fd = strstr(line, "Found DFU: [");
		if (fd) { /* dfu-util -l */
			unsigned vid, pid, ver, a;
			const char *ap = strstr(fd, "alt="), *np = strstr(fd, "name=\""), *sp = strstr(fd, "serial=\"");
			if (sscanf(fd, "Found DFU: [%4x:%4x] ver=%4x", &vid, &pid, &ver) != 3 || !ap || !np)
				continue;
			a = (unsigned)atoi(ap + 4);
			puthex(fs, "idVendor", vid);
			puthex(fs, "idProduct", pid);
			puthex(fs, "bcdDevice", ver);
			char k[16];
			snprintf(k, sizeof k, "alt%u", a);
			snprintf(v, sizeof v, "%.*s", (int)strcspn(np + 6, "\""), np + 6);
			put(fs, k, v);
			if ((int)a > max_alt)
				max_alt = (int)a;
			if (sp) {
				snprintf(v, sizeof v, "%.*s", (int)strcspn(sp + 8, "\""), sp + 8);
				put(fs, "serial", v);
			}
			continue;
		}
		/* lsusb -v */
		if (strstr(line, "Configuration Descriptor:"))
			in_config = true;
		if (strstr(line, "Interface Descriptor:") && !strstr(line, "Firmware"))
			in_config = false;
		if (strstr(line, "Device Firmware Upgrade Interface Descriptor:"))
			in_dfu = true;
		if (after(line, " bcdUSB ", v, sizeof v))
			puthex(fs, "bcdUSB", bcd(v));
		if (after(line, " bcdDevice ", v, sizeof v))
			puthex(fs, "bcdDevice", bcd(v));
		if (after(line, " idVendor ", v, sizeof v))
			puthex(fs, "idVendor", (unsigned)strtoul(v, NULL, 16));
		if (after(line, " idProduct ", v, sizeof v))
			puthex(fs, "idProduct", (unsigned)strtoul(v, NULL, 16));
		if (after(line, " bDeviceClass ", v, sizeof v))
			put(fs, "bDeviceClass", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " bDeviceSubClass ", v, sizeof v))
			put(fs, "bDeviceSubClass", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " bDeviceProtocol ", v, sizeof v))
			put(fs, "bDeviceProtocol", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " bConfigurationValue ", v, sizeof v))
			put(fs, "bConfigurationValue", v);
		if (after(line, " bNumEndpoints ", v, sizeof v))
			put(fs, "bNumEndpoints", v);
		if (after(line, " bMaxPacketSize0 ", v, sizeof v))
			put(fs, "bMaxPacketSize0", v);
		if (after(line, " iManufacturer ", v, sizeof v) && strlen(v) > 2)
			put(fs, "manufacturer", v + 2);
		if (after(line, " iProduct ", v, sizeof v) && strlen(v) > 2)
			put(fs, "product", v + 2);
		if (after(line, " iSerial ", v, sizeof v) && strlen(v) > 2)
			put(fs, "serial", v + 2);
		if (after(line, " bNumConfigurations ", v, sizeof v))
			put(fs, "bNumConfigurations", v);
		if (after(line, " wTotalLength ", v, sizeof v))
			puthex(fs, "wTotalLength", (unsigned)strtoul(v, NULL, 0));
		if (after(line, " bNumInterfaces ", v, sizeof v))
			put(fs, "bNumInterfaces", v);
		if (after(line, " iConfiguration ", v, sizeof v))
			put(fs, "iConfiguration", v);
		if (after(line, " MaxPower ", v, sizeof v))
			put(fs, "MaxPower", v);
		if (after(line, " bmAttributes ", v, sizeof v)) {
			if (in_dfu)
				puthex(fs, "dfuAttributes", (unsigned)strtoul(v, NULL, 0));
			else if (in_config)
				puthex(fs, "configAttributes", (unsigned)strtoul(v, NULL, 0));
		}
		if (after(line, " bAlternateSetting ", v, sizeof v)) {
			alt = atoi(v);
			if (alt > max_alt)
				max_alt = alt;
		}
		if (alt >= 0 && after(line, " iInterface ", v, sizeof v)) {
			char k[24];
			snprintf(k, sizeof k, "iInterface%d", alt);
			put(fs, k, (snprintf(line, sizeof line, "%d", atoi(v)), line));
			char *s = strchr(v, ' ');
			if (s) {
				snprintf(k, sizeof k, "alt%d", alt);
				put(fs, k, s + 1);
			}
		}
		if (after(line, " bInterfaceClass ", v, sizeof v))
			put(fs, "bInterfaceClass", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " bInterfaceSubClass ", v, sizeof v))
			put(fs, "bInterfaceSubClass", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " bInterfaceProtocol ", v, sizeof v))
			put(fs, "bInterfaceProtocol", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " wDetachTimeout ", v, sizeof v))
			put(fs, "detach", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " wTransferSize ", v, sizeof v))
			put(fs, "transferSize", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, " bcdDFUVersion ", v, sizeof v))
			puthex(fs, "dfuVersion", bcd(v));
		/* dmesg */
		if (after(line, "bcdDevice=", v, sizeof v))
			puthex(fs, "bcdDevice", bcd(v));
		if (after(line, ": Product: ", v, sizeof v))
			put(fs, "product", v);
		if (after(line, ": Manufacturer: ", v, sizeof v))
			put(fs, "manufacturer", v);
		if (after(line, ": SerialNumber: ", v, sizeof v))
			put(fs, "serial", v);
		/* dfu-util -v */
		if (after(line, "DFU attributes: (", v, sizeof v))
			puthex(fs, "dfuAttributes", (unsigned)strtoul(v, NULL, 0));
		if (after(line, "Detach timeout ", v, sizeof v))
			put(fs, "detach", (snprintf(line, sizeof line, "%d", atoi(v)), line));
		if (after(line, "Device returned transfer size ", v, sizeof v))
			put(fs, "transferSize", v);
		if (after(line, "DFU mode device DFU version ", v, sizeof v))
			puthex(fs, "dfuVersion", (unsigned)strtoul(v, NULL, 16));
		if (after(line, "DfuSe interface name: \"", v, sizeof v)) {
			v[strcspn(v, "\"")] = '\0';
			put(fs, "alt0name", v);
		}
		/* CubeProgrammer (its columns, and forum copies, change the spaces: compared collapsed) */
		if (after(line, "Manuf. ID", v, sizeof v) && v[0] == ':')
			put(fs, "cp_manufacturer", v + 1 + (v[1] == ' '));
		if (after(line, "Product ID", v, sizeof v) && v[0] == ':')
			put(fs, "cp_product", v + 1 + (v[1] == ' '));
		if (strstr(line, " SN ") && after(line, " SN", v, sizeof v) && v[0] == ':')
			put(fs, "serial", v + 1 + (v[1] == ' '));
	}
	if (max_alt >= 0) {
		snprintf(v, sizeof v, "%d", max_alt + 1);
		put(fs, "alts", v);
	}
}

static void get_string(struct simt *t, uint8_t index, char *out, size_t cap)
{
	out[0] = '\0';
	if (!index || simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, (uint16_t)(0x0300 | index), 255, NULL) !=
	                  SIM_OK)
		return;
	size_t bytes = t->actual >= 2 ? t->actual - 2u : 0;
	bool utf16 = bytes % 2 == 0;
	for (size_t i = 1; i < bytes && utf16; i += 2)
		utf16 = t->buf[2 + i] == 0;
	/* every real string here is ASCII in UTF-16LE, except the GD32VF103 serial, which that ROM
	 * sends as raw bytes (and dfu-util prints as they are) */
	size_t n = utf16 ? bytes / 2 : bytes;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)t->buf[2 + (utf16 ? 2 * i : i)];
	out[n] = '\0';
}

/* The same facts from what the emulator sends. */
static void sim_facts(struct simt *t, struct facts *fs)
{
	uint8_t d[1024];
	size_t len = sim_descriptors(t->d, d, sizeof d);
	assert_true(len >= 18 + 9);
	char s[300];
	puthex(fs, "bcdUSB", (unsigned)(d[2] | d[3] << 8));
	put(fs, "bMaxPacketSize0", (snprintf(s, sizeof s, "%u", d[7]), s));
	puthex(fs, "idVendor", (unsigned)(d[8] | d[9] << 8));
	puthex(fs, "idProduct", (unsigned)(d[10] | d[11] << 8));
	puthex(fs, "bcdDevice", (unsigned)(d[12] | d[13] << 8));
	put(fs, "bNumConfigurations", (snprintf(s, sizeof s, "%u", d[17]), s));
	put(fs, "bDeviceClass", (snprintf(s, sizeof s, "%u", d[4]), s));
	put(fs, "bDeviceSubClass", (snprintf(s, sizeof s, "%u", d[5]), s));
	put(fs, "bDeviceProtocol", (snprintf(s, sizeof s, "%u", d[6]), s));
	get_string(t, d[14], s, sizeof s);
	put(fs, "manufacturer", s);
	put(fs, "cp_manufacturer", s);
	get_string(t, d[15], s, sizeof s);
	put(fs, "product", s);
	put(fs, "cp_product", s);
	get_string(t, d[16], s, sizeof s);
	put(fs, "serial", s);
	const uint8_t *c = d + 18;
	puthex(fs, "wTotalLength", (unsigned)(c[2] | c[3] << 8));
	put(fs, "bNumInterfaces", (snprintf(s, sizeof s, "%u", c[4]), s));
	put(fs, "iConfiguration", (snprintf(s, sizeof s, "%u", c[6]), s));
	put(fs, "bConfigurationValue", (snprintf(s, sizeof s, "%u", c[5]), s));
	puthex(fs, "configAttributes", c[7]);
	put(fs, "MaxPower", (snprintf(s, sizeof s, "%umA", c[8] * 2u), s));
	int alts = 0;
	for (size_t off = 9; off + 2 <= len - 18; off += c[off]) {
		const uint8_t *x = c + off;
		if (x[0] == 0)
			break;
		if (x[1] == 4) { /* interface */
			char k[24], str[300];
			snprintf(k, sizeof k, "iInterface%u", x[3]);
			put(fs, k, (snprintf(s, sizeof s, "%u", x[8]), s));
			get_string(t, x[8], str, sizeof str);
			snprintf(k, sizeof k, "alt%u", x[3]);
			put(fs, k, str);
			if (x[3] == 0) {
				/* dfu-util's DfuSe interface name: the string up to the '/', without the '@' */
				snprintf(s, sizeof s, "%.*s", (int)strcspn(str + (str[0] == '@'), "/"), str + (str[0] == '@'));
				put(fs, "alt0name", s);
			}
			put(fs, "bNumEndpoints", (snprintf(s, sizeof s, "%u", x[4]), s));
			put(fs, "bInterfaceClass", (snprintf(s, sizeof s, "%u", x[5]), s));
			put(fs, "bInterfaceSubClass", (snprintf(s, sizeof s, "%u", x[6]), s));
			put(fs, "bInterfaceProtocol", (snprintf(s, sizeof s, "%u", x[7]), s));
			alts++;
		} else if (x[1] == 0x21) { /* DFU functional */
			puthex(fs, "dfuAttributes", x[2]);
			put(fs, "detach", (snprintf(s, sizeof s, "%u", x[3] | x[4] << 8), s));
			put(fs, "transferSize", (snprintf(s, sizeof s, "%u", x[5] | x[6] << 8), s));
			puthex(fs, "dfuVersion", (unsigned)(x[7] | x[8] << 8));
		}
	}
	put(fs, "alts", (snprintf(s, sizeof s, "%d", alts), s));
}

static void collapse(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n + 1 < cap; in++)
		if (!(isspace((unsigned char)*in) && (n == 0 || out[n - 1] == ' ')))
			out[n++] = isspace((unsigned char)*in) ? ' ' : *in;
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

struct pair {
	const char *spec;   /* the profile (with keys when the dump is another board of the family) */
	const char *file;   /* the real dump ("" : none exists) */
	const char *skip;   /* facts the dump shows of another chip than the profile's, comma-separated,
	                     * each with its reason in the table; or why there is no dump */
};

/* The dumps and the profiles they speak for. A skipped fact says why. */
static const struct pair pairs[] = {
	{"f407", DATA "dfu-list/platformio-ststm32-118_F407VE-black_dfu-util-l_207A389B5848.txt", ""},
	/* another F407 board (its serial) */
	{"f407", DATA "cubeprog/fome-322_F407-0x413_cli-2.14-usb-write_SN206737645746.txt", "serial"},
	{"f401", DATA "dfu-list/dhylands-G30HDR_F401CE_dfu-util-list.txt", ""},
	{"f401", DATA "dfu-list/dhylands-G30DEV_F401CE_dfu-util-list.txt", "serial"},
	{"f401", DATA "dfu-list/dhylands-BRAINPAD_F401RE_dfu-util-list.txt", "serial"},
	/* the F4 512 KiB lsusb -v: an F401/F411-class part (its serial is another board's) */
	{"f401", DATA "lsusb/rust-dfu_lsusb_F4-512K_348435943539.txt", "serial"},
	{"f411", DATA "lsusb/rust-dfu_lsusb_F4-512K_348435943539.txt", "serial"},
	{"f411", DATA "dfu-list/unicorne-8_F411_dfu-util-download_dfuERROR-status10.txt", "serial"},
	{"f411", DATA "field/sourceforge-dfu-util-140_F411CE_LIBUSB_ERROR_PIPE-mid-download.txt", "serial"},
	{"f446", DATA "dfu-list/ok-STM32F4_F446-bootloaderID-0x90_dfu-util-l_serial-STM32FxSTM32.txt", ""},
	/* the F42x report has numbers only (string 4 cut to 112 of 166 bytes: test_sim_field.c) */
	{"f429", "", "no listing of an F42x/F43x ROM: the f407 descriptors, the alt 0 string cut as the F42x report says"},
	{"f0-32k", DATA "dfu-list/EugenePY-AKIRA_F0-32K_dfu-util-l_serial-FFFFFFFEFFFF.txt", ""},
	{"f0-32k", DATA "dfu-list/ozseccon2019-badge_F0-32K_dfu-util-l_and_dfuse-download.txt", ""},
	/* F7 CubeProgrammer logs: another board's serial (0x449 reports 00000008FFFF) */
	{"f746", DATA "cubeprog/st-community_F7-0x449_direct-usb-fails-hub-works_SN00000008FFFF.txt", "serial"},
	{"f746-report", DATA "cubeprog/st-community_F7-0x449_direct-usb-fails-hub-works_SN00000008FFFF.txt", "serial"},
	{"f767-db", DATA "cubeprog/rusefi-7985_F767-1MB-0x451_cli-2.18_SN20703371554B.txt", "serial"},
	{"h750", DATA "dfu-list/nuttx-weact-stm32h750_H750_dmesg_dfu-util-l_download.txt", ""},
	{"h743", "", "no listing of an H743 ROM (the CubeProgrammer H743 log shows no descriptor): the H750's"},
	{"h7a3", PEER_REF "field_H7A3_dfu-util-l.txt", ""},
	{"u585", PEER_REF "field_U585_dfu-util-l.txt", ""},
	{"at32f415", PEER_REF "field_AT32F415_dfu-util-l.txt", ""},
	{"gd32vf103", PEER_REF "gd32-dfu-utils-5_GD32VF103CBT6_dfu-util-l.txt", ""},
	{"l43x", DATA "dfu-list/mobilinkd-tnc3-12_L4-256K_dfu-util-l_207E32823141.txt", ""},
	{"l0-192k", DATA "dfu-list/bigclown-notes_L0-192K-CoreModule_dfu-util-l_7FB4A4356231.txt", ""},
	{"l100rc", DATA "dfu-list/openbttn_L100RC-256K_dfu-util-l_and_download.txt", ""},
	{"g474", DATA "dfu-list/hausrack_G474CE_dfu-util-l_two-region-option-bytes.txt", ""},
	/* a G4-class ROM (256 x 2 KiB, the MCU not named): another board's serial */
	{"g474", DATA "field/dfu-libusb-4_G4-class-512K_dfu-util-0.11-v_CLRSTATUS-in-idle-breaks.txt", "serial"},
	{"g0c1", DATA "dfu-list/st-community_G0C1VET6_dfu-util-l_lsusb-head_all-alts-same.txt", "serial"},
	{"wb55", "", "no dump of a WB ROM exists (searched 2026-12-07): the G4/H7 generation's, UNCONFIRMED"},
	{"c071", "", "no dump of a C0 ROM exists (searched 2026-12-07, docs/rom-quirks.md): the G0's, UNCONFIRMED"},
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	static char text[1 << 17];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static bool skipped(const char *skip, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = skip; (p = strstr(p, key)) != NULL; p += k)
		if ((p == skip || p[-1] == ',') && (p[k] == '\0' || p[k] == ','))
			return true;
	return false;
}

/* Compares one dump with its profile; the number of facts compared. */
static size_t check_pair(const struct pair *pr, unsigned *bad)
{
	struct facts want = {0}, got = {0};
	dump_facts(slurp(pr->file), &want);
	struct simt *t = simt_new(pr->spec);
	sim_facts(t, &got);
	simt_free(t);
	size_t compared = 0;
	for (size_t i = 0; i < want.n; i++) {
		const char *k = want.f[i].key, *w = want.f[i].val;
		if (skipped(pr->skip, k) || !strcmp(w, "<REDACTED>"))
			continue;
		const char *g = get(&got, k);
		char a[300], b[300];
		bool same;
		if (!strncmp(k, "cp_", 3)) {
			collapse(w, a, sizeof a);
			collapse(g ? g : "", b, sizeof b);
			same = !strcmp(a, b);
		} else {
			same = g && !strcmp(w, g);
		}
		compared++;
		if (!same) {
			print_message("%s vs %s: %s: real \"%s\", emulated \"%s\"\n", pr->spec, pr->file, k, w, g ? g : "(none)");
			(*bad)++;
		}
	}
	return compared;
}

static void test_every_profile_against_its_dumps(void **state)
{
	(void)state;
	unsigned bad = 0;
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		if (!pairs[i].file[0])
			continue;
		size_t n = check_pair(&pairs[i], &bad);
		print_message("%-12s %2zu facts from %s\n", pairs[i].spec, n, strrchr(pairs[i].file, '/') + 1);
		if (n < 2)
			fail_msg("%s: only %zu facts read from %s: the dump's format is not understood", pairs[i].spec, n,
			         pairs[i].file);
	}
	assert_int_equal(bad, 0);
}

/* Every shipped profile is in the table (with dumps, or the reason it has none). */
static void test_every_profile_is_listed(void **state)
{
	(void)state;
	FILE *ls = popen("ls " PROFILE_DIR, "r");
	assert_non_null(ls);
	char name[256];
	unsigned missing = 0, profiles = 0;
	while (fgets(name, sizeof name, ls)) {
		name[strcspn(name, "\n")] = '\0';
		char *dot = strstr(name, ".profile");
		if (!dot || dot[8])
			continue;
		*dot = '\0';
		profiles++;
		bool found = false;
		for (size_t i = 0; i < sizeof pairs / sizeof pairs[0] && !found; i++)
			found = !strcmp(pairs[i].spec, name);
		if (!found) {
			print_message("profile %s has no row in this test's table\n", name);
			missing++;
		}
	}
	pclose(ls);
	assert_true(profiles >= 20);
	assert_int_equal(missing, 0);
}

/* The reader itself, on a line of each kind (so a dump it misreads cannot pass as equal) */
static void test_reader(void **state)
{
	(void)state;
	struct facts f = {0};
	dump_facts("Found DFU: [0483:df11] ver=2200, devnum=2, cfg=1, intf=0, path=\"1-1\", alt=1, "
	           "name=\"@Option Bytes  /0x1FFFC000/01*016 e\", serial=\"207A389B5848\"\n"
	           "  bcdUSB               1.00\n  bcdDFUVersion                   1.1a\n"
	           "[ 1.2] usb 3-5: New USB device found, idVendor=0483, idProduct=df11, bcdDevice= 2.00\n"
	           "DFU attributes: (0x0b) bitCanDnload\nDfuSe interface name: \"Internal Flash   \"\n"
	           "12:22:48 : Product ID : STM32 BOOTLOADER\n",
	           &f);
	assert_string_equal(get(&f, "alt1"), "@Option Bytes  /0x1FFFC000/01*016 e");
	assert_string_equal(get(&f, "serial"), "207A389B5848");
	assert_string_equal(get(&f, "bcdUSB"), "0x0100");
	assert_string_equal(get(&f, "dfuVersion"), "0x011a");
	assert_string_equal(get(&f, "bcdDevice"), "0x0200");
	assert_string_equal(get(&f, "dfuAttributes"), "0x000b");
	assert_string_equal(get(&f, "alt0name"), "Internal Flash   ");
	assert_string_equal(get(&f, "cp_product"), "STM32 BOOTLOADER");
	assert_string_equal(get(&f, "alts"), "2");
}

/* The F0 ROM on the wire (sigrok capture of dfu-util): each GET_DESCRIPTOR the ROM answered (strings
 * 0, 3, 4 before dfu-util's download; the device and configuration descriptors in the capture are
 * the application's, after the leave) gets the same bytes from f0-32k. */
static void test_f0_capture_descriptors_byte_for_byte(void **state)
{
	(void)state;
	const char *text = slurp(DATA "captures/sigrok-dumps_stm32_dfu_install.derived-usb_request.txt");
	struct simt *t = simt_new("f0-32k");
	unsigned compared = 0;
	char line[4096];
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
		p += n + (p[n] == '\n');
		unsigned su[8];
		const char *q = strstr(line, "SETUP in: [ ");
		if (!q || sscanf(q, "SETUP in: [ %x %x %x %x %x %x %x %x ]", &su[0], &su[1], &su[2], &su[3], &su[4], &su[5],
		                 &su[6], &su[7]) != 8 || su[0] != 0x80 || su[1] != 6)
			continue;
		if (su[3] == 1)
			break; /* a device descriptor: the application after the leave */
		uint8_t want[512];
		size_t wn = 0;
		const char *dq = strstr(q, "][");
		assert_non_null(dq);
		for (dq += 2; wn < sizeof want;) {
			unsigned b;
			int used;
			if (sscanf(dq, " %2x%n", &b, &used) != 1)
				break;
			want[wn++] = (uint8_t)b;
			dq += used;
		}
		struct usb_setup s = {(uint8_t)su[0], (uint8_t)su[1], (uint16_t)(su[2] | su[3] << 8),
		                      (uint16_t)(su[4] | su[5] << 8), (uint16_t)(su[6] | su[7] << 8)};
		enum sim_result r = sim_control(t->d, &s, t->buf, &t->actual);
		if (strstr(line, "STALL")) {
			assert_int_equal(r, SIM_STALL);
		} else {
			assert_int_equal(r, SIM_OK);
			assert_int_equal(t->actual, wn);
			assert_memory_equal(t->buf, want, wn);
		}
		compared++;
	}
	print_message("%u descriptor requests of the capture answered byte for byte\n", compared);
	assert_true(compared >= 4);
	simt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_every_profile_is_listed),
		cmocka_unit_test(test_every_profile_against_its_dumps),
		cmocka_unit_test(test_f0_capture_descriptors_byte_for_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
