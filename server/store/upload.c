/*
 * Streaming uploads to a temp file with running digests.  The temp file is
 * created O_EXCL with a random name in the data directory's tmp folder, so
 * the final rename(2) into the artifact folder is atomic (same file system).
 *
 * The three digests one after the other cost more than the network and the
 * disk (libcrypto, measured here: md5 735 MB/s, sha1 1,800 and sha256
 * 1,650 MB/s with the CPU's SHA instructions; nettle's are 20-35 % slower).
 * So the connection's thread only copies the data as it arrives into a
 * ring of 1 MiB blocks, and two workers of the upload take each full
 * block in turn, each at its own pace: one runs md5, the slowest, the
 * other sha1 and sha256 and writes the block.  md5 beside the receive on
 * one thread was the upload's longest thread (1 GiB: 1.8 s of CPU); now
 * the threads take 0.6 s (the receive and the copy), 1.2 s (md5) and
 * 1.1 s (sha1, sha256, write).  With two blocks, one filled and one
 * worked, the three went in lock-step and a 1 GiB .swu upload took 0.4 s
 * longer than before (median 2.8 s against 2.3 s, alternated, load 5);
 * with four, where a worker may lag two blocks behind the other, it
 * takes what it took (2.2 s against 2.3 s, load 2).
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
#define UPLOAD_BLOCKS 4            /* in the ring: filled, queued, worked */
#define UPLOAD_ALIGN 4096          /* O_DIRECT: buffer, length and offset */

/* The upload's two workers, each with its share of every block. */
enum upload_role {
	UPLOAD_W_MD5,   /* md5 */
	UPLOAD_W_WRITE, /* sha1, sha256, then the file */
	UPLOAD_WORKERS
};

/*
 * The ring: the connection's thread fills block queued % UPLOAD_BLOCKS,
 * and each worker takes the queued blocks in order at its own pace; a
 * block is filled again once both have done it.  All under lock.
 */
struct upload_ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t queued;                     /* blocks handed to the workers */
	uint64_t done[UPLOAD_WORKERS];       /* blocks each worker has done */
	size_t len[UPLOAD_BLOCKS];           /* bytes in each queued block */
	enum upload_err err[UPLOAD_WORKERS]; /* each worker's first error */
	pthread_t thread[UPLOAD_WORKERS];
	bool started[UPLOAD_WORKERS];
	bool stop;
};

struct upload {
	int fd;
	char *path;
	bool keep;
	uint64_t size, max_size;
	enum upload_err err;
	EVP_MD_CTX *md5;                      /* the md5 worker's */
	EVP_MD_CTX *sha1, *sha256;            /* the writer's */
	unsigned char *blocks[UPLOAD_BLOCKS]; /* aligned: they go to the file */
	unsigned char *block;                 /* the one being filled */
	size_t fill;
	struct upload_ring r;
	char md5_hex[33], sha1_hex[41], sha256_hex[65];
	char *filename;
};

/* What a worker thread is started with. */
struct upload_worker_arg {
	struct upload *u;
	enum upload_role role;
};

struct upload *
upload_new(const char *dir, uint64_t max_size)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	char name[33];
	int i;

	u->fd = -1;
	u->max_size = max_size;
	for (i = 0; i < UPLOAD_BLOCKS; i++)
		if ((u->blocks[i] =
		            aligned_alloc(UPLOAD_ALIGN, UPLOAD_BLOCK)) == NULL)
			fatal("%s: aligned_alloc", __func__);
	u->block = u->blocks[0];
	pthread_mutex_init(&u->r.lock, NULL);
	pthread_cond_init(&u->r.cond, NULL);
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
upload_work(
    struct upload *u, enum upload_role role, const unsigned char *p, size_t len)
{
	if (role == UPLOAD_W_MD5) {
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

/* Worker role's next queued block, done; false if there is none. */
static bool
upload_work_next(struct upload *u, enum upload_role role)
{
	struct upload_ring *r = &u->r;
	uint64_t seq = r->done[role];
	enum upload_err e;

	if (seq == r->queued)
		return false;
	pthread_mutex_unlock(&r->lock);
	/* Only this worker sets its error: reading it unlocked is safe. */
	e = r->err[role] == UPLOAD_OK
	        ? upload_work(u, role, u->blocks[seq % UPLOAD_BLOCKS],
	              r->len[seq % UPLOAD_BLOCKS])
	        : r->err[role];
	pthread_mutex_lock(&r->lock);
	r->err[role] = e;
	r->done[role] = seq + 1;
	pthread_cond_broadcast(&r->cond);
	return true;
}

static void *
upload_worker_main(void *arg)
{
	struct upload_worker_arg *wa = arg;
	struct upload *u = wa->u;
	enum upload_role role = wa->role;
	struct upload_ring *r = &u->r;

	free(wa);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (upload_work_next(u, role))
			continue;
		if (r->stop)
			break;
		pthread_cond_wait(&r->cond, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/*
 * Under lock: wait until every worker has done all but the last `behind`
 * queued blocks; a worker without a thread does its share here.  The
 * first error, if any.
 */
static enum upload_err
upload_ring_wait(struct upload *u, uint64_t behind)
{
	struct upload_ring *r = &u->r;
	int i;

	for (;;) {
		bool waiting = false;

		for (i = 0; i < UPLOAD_WORKERS; i++) {
			while (
			    !r->started[i] && r->done[i] + behind < r->queued)
				upload_work_next(u, (enum upload_role)i);
			if (r->done[i] + behind < r->queued)
				waiting = true;
		}
		for (i = 0; i < UPLOAD_WORKERS; i++)
			if (r->err[i] != UPLOAD_OK)
				return r->err[i];
		if (!waiting)
			break;
		pthread_cond_wait(&r->cond, &r->lock);
	}
	return UPLOAD_OK;
}

static void
upload_workers_stop(struct upload *u)
{
	struct upload_ring *r = &u->r;
	int i;

	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < UPLOAD_WORKERS; i++)
		if (r->started[i]) {
			pthread_join(r->thread[i], NULL);
			r->started[i] = false;
		}
	r->stop = false;
}

/*
 * Queue the filled part of the block and go on filling the next one in
 * the ring, once both workers are done with it.  The workers start with
 * the first block; a worker whose thread could not be started does its
 * part in this thread.
 */
static enum upload_err
upload_flush(struct upload *u)
{
	struct upload_ring *r = &u->r;
	struct upload_worker_arg *wa;
	enum upload_err e;
	int i;

	if (u->fill == 0)
		return UPLOAD_OK;
	pthread_mutex_lock(&r->lock);
	if (r->queued == 0)
		for (i = 0; i < UPLOAD_WORKERS; i++) {
			wa = xmalloc(sizeof(*wa));
			wa->u = u;
			wa->role = (enum upload_role)i;
			r->started[i] = pthread_create(&r->thread[i], NULL,
			                    upload_worker_main, wa) == 0;
			if (!r->started[i])
				free(wa);
		}
	r->len[r->queued % UPLOAD_BLOCKS] = u->fill;
	r->queued++;
	pthread_cond_broadcast(&r->cond);
	e = upload_ring_wait(u, UPLOAD_BLOCKS - 1);
	pthread_mutex_unlock(&r->lock);
	if (e != UPLOAD_OK)
		return u->err = e;
	u->block = u->blocks[r->queued % UPLOAD_BLOCKS];
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
	pthread_mutex_lock(&u->r.lock);
	e = upload_ring_wait(u, 0);
	pthread_mutex_unlock(&u->r.lock);
	if (e != UPLOAD_OK)
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
	pthread_mutex_destroy(&u->r.lock);
	pthread_cond_destroy(&u->r.cond);
	if (u->fd != -1)
		close(u->fd);
	if (u->path != NULL && !u->keep)
		unlink(u->path);
	EVP_MD_CTX_free(u->md5);
	EVP_MD_CTX_free(u->sha1);
	EVP_MD_CTX_free(u->sha256);
	for (i = 0; i < UPLOAD_BLOCKS; i++)
		free(u->blocks[i]);
	free(u->path);
	free(u->filename);
	free(u);
}
