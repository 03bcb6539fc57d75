/*
 * Backups of a data directory while the server keeps serving, and their
 * restore into an empty one.
 *
 * A backup directory holds falconet.db (a consistent copy made with
 * SQLite's online backup API), artifacts/ (the files that copy names,
 * each checked against its recorded size and SHA-256), the other files of
 * the data directory's top level (keys) and MANIFEST.json.  It is built
 * under DIR.partial and renamed to DIR once complete, so a directory named
 * DIR is always a whole backup.
 */
#ifndef BACKUP_H
#define BACKUP_H

#include <stddef.h>
#include <stdint.h>

#define BACKUP_MANIFEST "MANIFEST.json"
#define BACKUP_FORMAT "falconet-backup"
#define BACKUP_VERSION 1

struct backup_stats {
	int64_t artifacts; /* files copied */
	int64_t bytes;     /* their bytes */
	int schema;        /* the database's schema version */
	int tries;         /* snapshots taken (an artifact deleted meanwhile
	                      makes another) */
};

/*
 * Back up data_dir (its falconet.db, artifacts/ and top-level files) into
 * dir, which must not exist or be empty.  0 ok with *stats filled; -1
 * with a one-line reason in err, and nothing left at dir.
 */
int backup_create(const char *data_dir, const char *dir,
    struct backup_stats *stats, char *err, size_t errlen);

/*
 * Restore the backup in dir into data_dir, which must not exist or be
 * empty (a fresh directory: no server has run on it).  The database is
 * checked (PRAGMA integrity_check, a schema this build knows) and every
 * artifact against the database before anything is written.  0 ok; -1
 * with the reason in err, and data_dir left as it was found.
 */
int backup_restore(const char *dir, const char *data_dir, int latest_schema,
    struct backup_stats *stats, char *err, size_t errlen);

#endif
