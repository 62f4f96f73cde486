/* The spool of a PostgreSQL log (spool.h): a plain SQLite log named after its destination. */
#include "core/file.h"
#include "store/spool.h"

#include <dirent.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spool {
	char path[512];
	struct store_backend *db; /* NULL until a record must be kept, or the file exists */
	bool pending;
};

static int spool_db(struct spool *sp, bool create, struct err *e)
{
	if (sp->db)
		return 0;
	if (!create && access(sp->path, F_OK) != 0)
		return 0;
	if (file_make_parent_dirs(sp->path, NULL) < 0)
		return err_set(e, STM32DFU_E_FILE_IO, "spool %s: cannot create its folder", sp->path);
	return store_sqlite_open(sp->path, &sp->db, e);
}

static void spool_count(struct spool *sp)
{
	struct store_record *r = NULL;
	size_t n = 0;
	sp->pending = sp->db && (sp->db->ops->query(sp->db, NULL, &r, &n, NULL) < 0 || n > 0);
	free(r);
}

/* hex digits of the SHA-256 of n bytes */
static void digest(const char *s, size_t n, char *hex, size_t digits)
{
	struct sha256_ctx ctx;
	uint8_t md[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, n, (const uint8_t *)s);
	sha256_digest(&ctx, sizeof md, md);
	for (size_t i = 0; i < digits / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* "spool-DB-" (the prefix every spool of key's database shares) and the user's part */
static void names(const char *key, char db[20], char user[12])
{
	const char *nl = strchr(key, '\n');
	size_t n = nl ? (size_t)(nl - key) : strlen(key);
	digest(key, n, db, 16);
	digest(nl ? nl + 1 : "", nl ? strlen(nl + 1) : 0, user, 8);
}

struct spool *spool_new(const char *dir, const char *key)
{
	struct spool *sp = calloc(1, sizeof *sp);
	if (!sp)
		return NULL;
	char db[20], user[12];
	names(key, db, user);
	snprintf(sp->path, sizeof sp->path, "%s/spool-%s-%s.sqlite3", dir, db, user);
	if (spool_db(sp, false, NULL) == 0)
		spool_count(sp);
	return sp;
}

void spool_free(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->db)
		sp->db->ops->close(sp->db);
	free(sp);
}

const char *spool_path(const struct spool *sp)
{
	return sp->path;
}

bool spool_pending(struct spool *sp)
{
	return sp->pending;
}

int spool_keep(struct spool *sp, const struct store_record *r, struct err *e)
{
	int rc = spool_db(sp, true, e);
	if (rc == 0)
		rc = sp->db->ops->append(sp->db, r, e);
	if (rc == 0)
		sp->pending = true;
	return rc;
}

int spool_forward(struct spool *sp, struct store_backend *dest, size_t *sent, size_t *left, struct err *e)
{
	if (sent)
		*sent = 0;
	if (left)
		*left = 0;
	int rc = spool_db(sp, false, e);
	if (rc < 0 || !sp->db)
		return rc;
	struct store_record *r = NULL;
	size_t n = 0;
	rc = sp->db->ops->query(sp->db, NULL, &r, &n, e);
	if (rc < 0)
		return rc;
	size_t k = 0;
	for (; k < n; k++) {
		if ((rc = dest->ops->append(dest, &r[k], e)) < 0)
			break;
		if ((rc = sp->db->ops->remove(sp->db, r[k].record_id, e)) < 0)
			break;
	}
	free(r);
	if (sent)
		*sent = k;
	if (left)
		*left = n - k;
	sp->pending = n > k;
	return rc;
}

int spool_forward_all(const char *dir, const char *key, struct store_backend *dest, size_t *sent, size_t *left,
                      struct err *e)
{
	char db[20], user[12], prefix[32];
	names(key, db, user);
	snprintf(prefix, sizeof prefix, "spool-%s-", db);
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* no state folder: nothing was ever spooled */
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || n < 8 || strcmp(de->d_name + n - 8, ".sqlite3") != 0)
			continue;
		struct spool sp = {0};
		snprintf(sp.path, sizeof sp.path, "%s/%s", dir, de->d_name);
		size_t s1 = 0, l1 = 0;
		rc = spool_forward(&sp, dest, &s1, &l1, e);
		if (sp.db)
			sp.db->ops->close(sp.db);
		*sent += s1;
		*left += l1;
		if (rc < 0 && l1 == 0 && s1 == 0) {
			/* it could not even be read: count what it holds as left, say which */
			err_prefix(e, "spool %s", sp.path);
		}
	}
	closedir(d);
	return rc;
}
