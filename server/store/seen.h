/*
 * Last-seen coalescing.  A poll records (device, time, address) in memory;
 * one writer thread flushes what accumulated about once a second in a
 * single transaction, so polls read the database and never write it.
 */
#ifndef SEEN_H
#define SEEN_H

#include <stdint.h>

struct seen;

/* Start the flusher thread on the database at db_path.  NULL on failure. */
struct seen *seen_start(const char *db_path, int stale_timeout);
/* Record that device_id was seen now from address (copied). Never blocks
 * on the database. */
void seen_note(struct seen *, int64_t device_id, const char *address);
/* Flush, stop the thread and free.  Accepts NULL. */
void seen_stop(struct seen *);

#endif
