/*
 * Streaming uploads to a temp file with running digests.  The temp file is
 * created O_EXCL with a random name in the data directory's tmp folder, so
 * the final rename(2) into the artifact folder is atomic (same file system).
 *
 * The three digests one after the other cost more than the network and the
 * disk (libcrypto, measured here: md5 735 MB/s, sha1 1,800 and sha256
 * 1,650 MB/s with the CPU's SHA instructions; nettle's are 20-35 % slower).
 * So the connection's thread only copies the data as it arrives into one
 * of two 1 MiB blocks, while two workers of the upload take the other
 * block: one runs md5, the slowest, the other sha1 and sha256 and writes
 * the block.  md5 beside the receive on one thread was the upload's
 * longest thread (1 GiB: 1.8 s of CPU); now the threads take 0.6 s (the
 * receive and the copy), 1.2 s (md5) and 1.1 s (sha1, sha256, write).
 *
 * The blocks are written with O_DIRECT where the file system allows: a
 * fresh page-cache page for every 4 KiB of a big upload cost more than
 * the disk (1 GiB: 2.2 s instead of 5 s here), and the file is read again
 * at most once, by its format's reader.  Writing through the page cache
 * for that reader does not pay here either: a RAUC bundle's tree check
 * then read the gigabyte from the cache in 0.4 s instead of 1.3 from the
 * disk, but the upload cost 1.3 s more CPU (5.4 s instead of 4.1), the
 * kernel's copies into fresh pages (copy_folio_from_iter_atomic, first
 * touches of memory cost 0.4 to 1.3 s per GiB on this virtual machine).
 * The short last block, and every read after upload_finish, go through
 * the page cache.
 */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define UPLOAD_FILENAME_MAX 255
#define UPLOAD_BLOCK (1024 * 1024) /* bytes written to the file at once */
#define UPLOAD_ALIGN 4096          /* O_DIRECT: buffer, length and offset */

/* The upload's two workers, each with its share of every block. */
enum upload_role {
	UPLOAD_W_MD5,   /* md5 */
	UPLOAD_W_WRITE, /* sha1, sha256, then the file */
	UPLOAD_WORKERS
};

/* One worker: one block at a time, under lock. */
struct upload_worker {
	struct upload *u;
	enum upload_role role;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const unsigned char *job; /* the block to work on; NULL when idle */
	size_t job_len;
	bool stop;
	enum upload_err err; /* the first error */
};

struct upload {
	int fd;
	char *path;
	bool keep;
	uint64_t size, max_size;
	enum upload_err err;
	EVP_MD_CTX *md5;           /* the md5 worker's */
	EVP_MD_CTX *sha1, *sha256; /* the writer's */
	unsigned char *blocks[2];  /* whole, aligned blocks go to the file */
	unsigned char *block;      /* the one being filled */
	size_t fill;
	struct upload_worker w[UPLOAD_WORKERS];
	char md5_hex[33], sha1_hex[41], sha256_hex[65];
	char *filename;
};

struct upload *
upload_new(const char *dir, uint64_t max_size)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	char name[33];
	int i;

	u->fd = -1;
	u->max_size = max_size;
	if ((u->blocks[0] = aligned_alloc(UPLOAD_ALIGN, UPLOAD_BLOCK)) ==
	        NULL ||
	    (u->blocks[1] = aligned_alloc(UPLOAD_ALIGN, UPLOAD_BLOCK)) == NULL)
		fatal("%s: aligned_alloc", __func__);
	u->block = u->blocks[0];
	for (i = 0; i < UPLOAD_WORKERS; i++) {
		u->w[i].u = u;
		u->w[i].role = (enum upload_role)i;
		pthread_mutex_init(&u->w[i].lock, NULL);
		pthread_cond_init(&u->w[i].cond, NULL);
	}
	if (random_token(name, 32) == -1) {
		log_warn("%s: random", __func__);
		goto fail;
	}
	u->path = xasprintf("%s/upload-%s.tmp", dir, name);
	u->fd = open(
	    u->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, 0640);
	if (u->fd == -1 && errno == EINVAL) /* tmpfs and others */
		u->fd =
		    open(u->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (u->fd == -1) {
		log_warn("%s: %s", __func__, u->path);
		goto fail;
	}
	if ((u->md5 = EVP_MD_CTX_new()) == NULL ||
	    (u->sha1 = EVP_MD_CTX_new()) == NULL ||
	    (u->sha256 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(u->md5, EVP_md5(), NULL) != 1 ||
	    EVP_DigestInit_ex(u->sha1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(u->sha256, EVP_sha256(), NULL) != 1) {
		log_warnx("%s: digest setup failed", __func__);
		goto fail;
	}
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

/* Write len bytes to the file. */
static void
upload_buffered(struct upload *u)
{
	int fl = fcntl(u->fd, F_GETFL);

	if (fl != -1 && (fl & O_DIRECT))
		fcntl(u->fd, F_SETFL, fl & ~O_DIRECT);
}

static enum upload_err
upload_write_file(struct upload *u, const unsigned char *p, size_t left)
{
	/* The last, short block goes through the page cache. */
	if (left % UPLOAD_ALIGN != 0)
		upload_buffered(u);
	while (left > 0) {
		ssize_t n = write(u->fd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EINVAL) { /* O_DIRECT refused */
				int fl = fcntl(u->fd, F_GETFL);

				if (fl != -1 && (fl & O_DIRECT)) {
					upload_buffered(u);
					continue;
				}
			}
			log_warn("%s: %s", __func__, u->path);
			return upload_errno();
		}
		p += n;
		left -= (size_t)n;
	}
	return UPLOAD_OK;
}

/* A worker's part of a block. */
static enum upload_err
upload_work(struct upload_worker *w, const unsigned char *p, size_t len)
{
	struct upload *u = w->u;

	if (w->role == UPLOAD_W_MD5) {
		if (EVP_DigestUpdate(u->md5, p, len) != 1)
			goto fail;
		return UPLOAD_OK;
	}
	if (EVP_DigestUpdate(u->sha1, p, len) != 1 ||
	    EVP_DigestUpdate(u->sha256, p, len) != 1)
		goto fail;
	return upload_write_file(u, p, len);
fail:
	log_warnx("%s: digest failed", __func__);
	return UPLOAD_IO;
}

static void *
upload_worker_main(void *arg)
{
	struct upload_worker *w = arg;
	enum upload_err e;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->job == NULL && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->job == NULL)
			break;
		pthread_mutex_unlock(&w->lock);
		/* Only this thread sets w->err: reading it unlocked is safe. */
		e = w->err == UPLOAD_OK ? upload_work(w, w->job, w->job_len)
		                        : w->err;
		pthread_mutex_lock(&w->lock);
		w->err = e;
		w->job = NULL;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Wait until worker w is idle; its first error, if any. */
static enum upload_err
upload_worker_wait(struct upload_worker *w)
{
	enum upload_err e;

	pthread_mutex_lock(&w->lock);
	while (w->job != NULL)
		pthread_cond_wait(&w->cond, &w->lock);
	e = w->err;
	pthread_mutex_unlock(&w->lock);
	return e;
}

/* Wait until every worker is idle; the first error, if any. */
static enum upload_err
upload_workers_wait(struct upload *u)
{
	enum upload_err e, first = UPLOAD_OK;
	int i;

	for (i = 0; i < UPLOAD_WORKERS; i++)
		if ((e = upload_worker_wait(&u->w[i])) != UPLOAD_OK &&
		    first == UPLOAD_OK)
			first = e;
	return first;
}

static void
upload_workers_stop(struct upload *u)
{
	struct upload_worker *w;
	int i;

	for (i = 0; i < UPLOAD_WORKERS; i++) {
		w = &u->w[i];
		if (!w->started)
			continue;
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
		w->stop = false;
	}
}

/*
 * Hand the filled part of the block to the workers and go on filling the
 * other one.  A worker whose thread could not be started does its part
 * here.
 */
static enum upload_err
upload_flush(struct upload *u)
{
	struct upload_worker *w;
	enum upload_err e;
	int i;

	if (u->fill == 0)
		return UPLOAD_OK;
	if ((e = upload_workers_wait(u)) != UPLOAD_OK)
		return u->err = e;
	for (i = 0; i < UPLOAD_WORKERS; i++) {
		w = &u->w[i];
		if (!w->started && pthread_create(&w->thread, NULL,
		                       upload_worker_main, w) == 0)
			w->started = true;
		if (!w->started) {
			if ((e = upload_work(w, u->block, u->fill)) !=
			    UPLOAD_OK)
				return u->err = w->err = e;
			continue;
		}
		pthread_mutex_lock(&w->lock);
		w->job = u->block;
		w->job_len = u->fill;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	u->block = u->block == u->blocks[0] ? u->blocks[1] : u->blocks[0];
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
	/* The network hands over a few KiB at a time; the workers get whole
	 * 1 MiB blocks, the file far fewer and page-aligned writes. */
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
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	enum upload_err e;

	if (u->err != UPLOAD_OK)
		return u->err;
	if (upload_flush(u) != UPLOAD_OK)
		return u->err;
	if ((e = upload_workers_wait(u)) != UPLOAD_OK)
		return u->err = e;
	upload_workers_stop(u);
	upload_buffered(u); /* the readers that follow read as they like */
	if (fdatasync(u->fd) == -1) {
		log_warn("%s: %s", __func__, u->path);
		return u->err = upload_errno();
	}
	if (EVP_DigestFinal_ex(u->md5, md, &n) != 1 || n != 16)
		return u->err = UPLOAD_IO;
	hex_encode(md, n, u->md5_hex);
	if (EVP_DigestFinal_ex(u->sha1, md, &n) != 1 || n != 20)
		return u->err = UPLOAD_IO;
	hex_encode(md, n, u->sha1_hex);
	if (EVP_DigestFinal_ex(u->sha256, md, &n) != 1 || n != 32)
		return u->err = UPLOAD_IO;
	hex_encode(md, n, u->sha256_hex);
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
	u->filename = xstrndup(name, utf8_cut(name, UPLOAD_FILENAME_MAX));
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
	int i;

	if (u == NULL)
		return;
	upload_workers_stop(u);
	for (i = 0; i < UPLOAD_WORKERS; i++) {
		pthread_mutex_destroy(&u->w[i].lock);
		pthread_cond_destroy(&u->w[i].cond);
	}
	if (u->fd != -1)
		close(u->fd);
	if (u->path != NULL && !u->keep)
		unlink(u->path);
	EVP_MD_CTX_free(u->md5);
	EVP_MD_CTX_free(u->sha1);
	EVP_MD_CTX_free(u->sha256);
	free(u->blocks[0]);
	free(u->blocks[1]);
	free(u->path);
	free(u->filename);
	free(u);
}
