/*
 * Streaming uploads to a temp file with running digests.  The temp file is
 * created O_EXCL with a random name in the data directory's tmp folder, so
 * the final rename(2) into the artifact folder is atomic (same file system).
 */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define UPLOAD_FILENAME_MAX 255
#define UPLOAD_BLOCK (1024 * 1024) /* bytes written to the file at once */

struct upload {
	int fd;
	char *path;
	bool keep;
	uint64_t size, max_size;
	enum upload_err err;
	struct md5_ctx md5;
	struct sha1_ctx sha1;
	struct sha256_ctx sha256;
	unsigned char *block; /* whole, aligned blocks go to the file */
	size_t fill;
	char md5_hex[33], sha1_hex[41], sha256_hex[65];
	char *filename;
};

struct upload *
upload_new(const char *dir, uint64_t max_size)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	char name[33];

	u->fd = -1;
	u->max_size = max_size;
	u->block = xmalloc(UPLOAD_BLOCK);
	if (random_token(name, 32) == -1) {
		log_warn("%s: random", __func__);
		goto fail;
	}
	u->path = xasprintf("%s/upload-%s.tmp", dir, name);
	u->fd = open(u->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (u->fd == -1) {
		log_warn("%s: %s", __func__, u->path);
		goto fail;
	}
	md5_init(&u->md5);
	sha1_init(&u->sha1);
	sha256_init(&u->sha256);
	return u;
fail:
	upload_free(u);
	return NULL;
}

static enum upload_err
upload_errno(void)
{
	return errno == ENOSPC || errno == EDQUOT ? UPLOAD_NO_SPACE : UPLOAD_IO;
}

/* Write the filled part of the block to the file. */
static enum upload_err
upload_flush(struct upload *u)
{
	const unsigned char *p = u->block;
	size_t left = u->fill;

	while (left > 0) {
		ssize_t n = write(u->fd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			u->err = upload_errno();
			log_warn("%s: %s", __func__, u->path);
			return u->err;
		}
		p += n;
		left -= (size_t)n;
	}
	u->fill = 0;
	return UPLOAD_OK;
}

enum upload_err
upload_write(struct upload *u, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (u->err != UPLOAD_OK)
		return u->err;
	if (len > u->max_size || u->size > u->max_size - len)
		return u->err = UPLOAD_TOO_BIG;
	md5_update(&u->md5, len, buf);
	sha1_update(&u->sha1, len, buf);
	sha256_update(&u->sha256, len, buf);
	/* The network hands over a few KiB at a time; the file gets whole
	 * 1 MiB blocks, far fewer and page-aligned writes. */
	while (len > 0) {
		size_t n = UPLOAD_BLOCK - u->fill;

		if (n > len)
			n = len;
		memcpy(u->block + u->fill, p, n);
		u->fill += n;
		p += n;
		len -= n;
		u->size += n;
		if (u->fill == UPLOAD_BLOCK && upload_flush(u) != UPLOAD_OK)
			return u->err;
	}
	return UPLOAD_OK;
}

enum upload_err
upload_finish(struct upload *u)
{
	uint8_t md[SHA256_DIGEST_SIZE];

	if (u->err != UPLOAD_OK)
		return u->err;
	if (upload_flush(u) != UPLOAD_OK)
		return u->err;
	if (fdatasync(u->fd) == -1) {
		log_warn("%s: %s", __func__, u->path);
		return u->err = upload_errno();
	}
	md5_digest(&u->md5, MD5_DIGEST_SIZE, md);
	hex_encode(md, MD5_DIGEST_SIZE, u->md5_hex);
	sha1_digest(&u->sha1, SHA1_DIGEST_SIZE, md);
	hex_encode(md, SHA1_DIGEST_SIZE, u->sha1_hex);
	sha256_digest(&u->sha256, SHA256_DIGEST_SIZE, md);
	hex_encode(md, SHA256_DIGEST_SIZE, u->sha256_hex);
	if (lseek(u->fd, 0, SEEK_SET) == -1)
		return u->err = UPLOAD_IO;
	return UPLOAD_OK;
}

enum upload_err
upload_error(const struct upload *u)
{
	return u->err;
}

const char *
upload_path(const struct upload *u)
{
	return u->path;
}

int
upload_fd(const struct upload *u)
{
	return u->fd;
}

uint64_t
upload_size(const struct upload *u)
{
	return u->size;
}

const char *
upload_md5(const struct upload *u)
{
	return u->md5_hex;
}

const char *
upload_sha1(const struct upload *u)
{
	return u->sha1_hex;
}

const char *
upload_sha256(const struct upload *u)
{
	return u->sha256_hex;
}

void
upload_set_filename(struct upload *u, const char *name)
{
	free(u->filename);
	u->filename = xstrndup(name, UPLOAD_FILENAME_MAX);
}

const char *
upload_filename(const struct upload *u)
{
	return u->filename;
}

void
upload_keep(struct upload *u)
{
	u->keep = true;
}

void
upload_free(struct upload *u)
{
	if (u == NULL)
		return;
	if (u->fd != -1)
		close(u->fd);
	if (u->path != NULL && !u->keep)
		unlink(u->path);
	free(u->block);
	free(u->path);
	free(u->filename);
	free(u);
}
