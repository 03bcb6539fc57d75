/*
 * Sealing TargetTokens with AES-256-GCM (OpenSSL's libcrypto).  A sealed
 * token is "v1:" followed by the hex of a 12-byte nonce, the ciphertext
 * and the 16-byte tag.  The key file is written once, by whichever thread
 * needs it first: a temp file linked into place, so two first uses agree.
 */
#include "tokenbox.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define TOKENBOX_NONCE 12
#define TOKENBOX_TAG 16
#define TOKENBOX_TEXT_MAX 256 /* bytes of a token sealed */

static int
tokenbox_read(const char *path, unsigned char key[TOKENBOX_KEY_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = read(fd, key, TOKENBOX_KEY_LEN);
	close(fd);
	if (n != TOKENBOX_KEY_LEN) {
		log_warnx("%s: %s is not a %d-byte key", __func__, path,
		    TOKENBOX_KEY_LEN);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
tokenbox_key(const char *data_dir, unsigned char key[TOKENBOX_KEY_LEN])
{
	char path[1200], tmp[1300];
	unsigned char fresh[TOKENBOX_KEY_LEN];
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", data_dir, TOKENBOX_FILE);
	if (tokenbox_read(path, key) == 0)
		return 0;
	if (errno != ENOENT) {
		log_warn("%s: %s", __func__, path);
		return -1;
	}
	if (random_bytes(fresh, sizeof(fresh)) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.%ld.XXXXXX", path, (long)getpid());
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("%s: %s", __func__, tmp);
		return -1;
	}
	/* mkstemp makes the file 0600. */
	if (write(fd, fresh, sizeof(fresh)) == (ssize_t)sizeof(fresh) &&
	    fsync(fd) == 0 && (link(tmp, path) == 0 || errno == EEXIST))
		rc = tokenbox_read(path, key);
	else
		log_warn("%s: %s", __func__, path);
	close(fd);
	unlink(tmp);
	explicit_bzero(fresh, sizeof(fresh));
	return rc;
}

char *
tokenbox_seal(const unsigned char key[TOKENBOX_KEY_LEN], const char *token)
{
	unsigned char buf[TOKENBOX_NONCE + TOKENBOX_TEXT_MAX + TOKENBOX_TAG];
	size_t len = strlen(token);
	EVP_CIPHER_CTX *c = NULL;
	char *out = NULL;
	int n, fin;

	if (len > TOKENBOX_TEXT_MAX ||
	    random_bytes(buf, TOKENBOX_NONCE) == -1 ||
	    (c = EVP_CIPHER_CTX_new()) == NULL)
		goto done;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
	    EVP_EncryptUpdate(c, buf + TOKENBOX_NONCE, &n,
	        (const unsigned char *)token, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, buf + TOKENBOX_NONCE + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TOKENBOX_TAG,
	        buf + TOKENBOX_NONCE + n + fin) != 1)
		goto done;
	len = TOKENBOX_NONCE + (size_t)n + (size_t)fin + TOKENBOX_TAG;
	out = xmalloc(3 + 2 * len + 1);
	memcpy(out, "v1:", 3);
	hex_encode(buf, len, out + 3);
done:
	EVP_CIPHER_CTX_free(c);
	explicit_bzero(buf, sizeof(buf));
	return out;
}

static int
tokenbox_unhex(const char *s, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(s);
	unsigned int v;

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	*len = n / 2;
	return 0;
}

int
tokenbox_open(const unsigned char key[TOKENBOX_KEY_LEN], const char *text,
    char *out, size_t outlen)
{
	unsigned char buf[TOKENBOX_NONCE + TOKENBOX_TEXT_MAX + TOKENBOX_TAG];
	unsigned char plain[TOKENBOX_TEXT_MAX];
	EVP_CIPHER_CTX *c = NULL;
	size_t len, clen;
	int n, fin, rc = -1;

	if (strncmp(text, "v1:", 3) != 0 ||
	    tokenbox_unhex(text + 3, buf, sizeof(buf), &len) == -1 ||
	    len < TOKENBOX_NONCE + TOKENBOX_TAG ||
	    (c = EVP_CIPHER_CTX_new()) == NULL)
		goto done;
	clen = len - TOKENBOX_NONCE - TOKENBOX_TAG;
	if (clen + 1 > outlen)
		goto done;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, buf) != 1 ||
	    EVP_DecryptUpdate(c, plain, &n, buf + TOKENBOX_NONCE, (int)clen) !=
	        1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TOKENBOX_TAG,
	        buf + TOKENBOX_NONCE + clen) != 1 ||
	    EVP_DecryptFinal_ex(c, plain + n, &fin) != 1)
		goto done;
	memcpy(out, plain, (size_t)(n + fin));
	out[n + fin] = '\0';
	rc = 0;
done:
	EVP_CIPHER_CTX_free(c);
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

int
tokenbox_new_token(char out[33])
{
	unsigned char raw[16];

	if (random_bytes(raw, sizeof(raw)) == -1)
		return -1;
	hex_encode(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}
