/*
 * The metadata sub-resources of /rest/v1 targets, software modules and
 * distribution sets: hawkBit's MgmtMetadata {key, value}, paged lists,
 * array creates and single-key reads, updates and deletes.  The caller
 * resolved the owner; the table says where its entries live.
 */
#ifndef REST_META_H
#define REST_META_H

#include <stdint.h>

struct db;
struct meta_table;
struct request;

/* GET .../metadata: a PagedList of the owner's entries. */
void rest_meta_list(
    struct request *, struct db *, const struct meta_table *, int64_t owner);
/* POST .../metadata [{key, value}]: 201 with the entries created, 409 if
 * a key is there. */
void rest_meta_create(
    struct request *, struct db *, const struct meta_table *, int64_t owner);
/* GET, PUT {value} and DELETE .../metadata/{key}; key is the request's
 * capture number i. */
void rest_meta_get(struct request *, struct db *, const struct meta_table *,
    int64_t owner, int i);
void rest_meta_put(struct request *, struct db *, const struct meta_table *,
    int64_t owner, int i);
void rest_meta_delete(struct request *, struct db *, const struct meta_table *,
    int64_t owner, int i);

#endif
