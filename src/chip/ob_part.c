/*
 * Which option-byte fields exist on the identified part. One layout serves several families (the
 * F2/F4 16-byte block, the F0/F3 pairs), and a write-protection group can lie past a small part's
 * flash; `ob show` marks such fields and `ob set` refuses them (issue 12 item 4, issue 15 item 5).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chip/ob.h"

static bool id_in_list(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t k = strcspn(p, " ");
		if (k == n && strncasecmp(p, id, n) == 0)
			return true;
		p += k;
	}
	return false;
}

bool ob_field_on_part(const struct chip_family *fam, const struct ob_field *f, uint32_t flash_size, char *why,
		      size_t len)
{
	if (why && len)
		why[0] = '\0';
	if (!fam || !f)
		return true;
	if (f->only && !id_in_list(f->only, fam->id)) {
		if (why)
			snprintf(why, len, "exists only on %s, not on %s", f->only, fam->name);
		return false;
	}
	const struct ob_layout *l = fam->ob;
	if (f->wrp_group1 && l && l->wrp_bit_bytes && flash_size) {
		uint64_t first = (uint64_t)(f->wrp_group1 - 1) * l->wrp_bit_bytes;
		if (first >= flash_size) {
			if (why)
				snprintf(why, len, "guards 0x%08X and up, past this part's %u KiB of flash",
					 (unsigned)(fam->flash_base + first), (unsigned)(flash_size / 1024));
			return false;
		}
	}
	return true;
}

void ob_mark_part(const struct chip_family *fam, uint32_t flash_size, struct ob_decoded *d)
{
	for (size_t i = 0; d && i < d->n_fields; i++) {
		struct ob_field_value *fv = &d->fields[i];
		fv->absent = !ob_field_on_part(fam, fv->field, flash_size, fv->absent_why, sizeof fv->absent_why);
	}
}

int ob_check_part(const struct chip_family *fam, uint32_t flash_size, const char *const *assigns, size_t n,
		  struct err *e)
{
	if (!fam || !fam->ob)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char name[64];
		size_t k = strcspn(assigns[i], "=");
		if (k >= sizeof name)
			continue;
		memcpy(name, assigns[i], k);
		name[k] = '\0';
		const struct ob_field *f = ob_field_by_name(fam->ob, name);
		char why[96];
		if (f && !ob_field_on_part(fam, f, flash_size, why, sizeof why))
			return err_set(e, STM32DFU_E_USAGE, "%s: this field does not exist on this chip: it %s", f->name,
				       why);
	}
	return 0;
}
