/*
 * Schema migrations: the SQL files of migrations/ are compiled into the
 * binary (build/migrations_data.c) and applied in order above the
 * database's PRAGMA user_version, each in one transaction with the bump.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

struct db;

struct migration {
	int version;      /* NNNN of NNNN_name.sql */
	const char *name; /* file name */
	const char *sql;
};

/* Generated from the NNNN_name.sql files, sorted by version. */
extern const struct migration migrations[];
extern const int nmigrations;

/*
 * Bring the database up to the newest migration.  Refuses (-1, logged) a
 * database whose user_version is newer than this binary knows.  0 ok.
 */
int migrate_run(struct db *);
/* The schema version this binary writes. */
int migrate_latest(void);

#endif
