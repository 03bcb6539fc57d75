/*
 * TargetTokens kept readable: sealed with AES-256-GCM under a key file
 * (data_dir/token.key, 32 random bytes, mode 0600, made on first use), so
 * that hawkBit's Management API can show a target's token while the
 * database alone does not give it away.  Devices are still checked
 * against the token's SHA-256 (device.token_hash).
 */
#ifndef TOKENBOX_H
#define TOKENBOX_H

#include <stddef.h>

#define TOKENBOX_KEY_LEN 32
#define TOKENBOX_FILE "token.key"

/* The key of data_dir, created if there is none.  0, or -1 (logged). */
int tokenbox_key(const char *data_dir, unsigned char key[TOKENBOX_KEY_LEN]);

/* The sealed text of token ("v1:" and hex), malloc'd; NULL on failure. */
char *tokenbox_seal(
    const unsigned char key[TOKENBOX_KEY_LEN], const char *token);

/* The token sealed in text, into out (outlen bytes); 0, or -1 when it
 * does not open with key (another key, altered text). */
int tokenbox_open(const unsigned char key[TOKENBOX_KEY_LEN], const char *text,
    char *out, size_t outlen);

/* 32 random lower-case hex digits into out[33], as hawkBit generates a
 * target's token.  0, or -1. */
int tokenbox_new_token(char out[33]);

#endif
