/*
 * What mgmt.c shares with mgmt_devices.c: the checks of the device
 * list's filters, and a bulk change of the devices a filter matches.
 */
#ifndef MGMT_DEVICES_H
#define MGMT_DEVICES_H

#include <jansson.h>
#include <stdbool.h>

struct db;
struct device_query;
struct request;

/* The most devices one bulk change by filter may touch. */
#define MGMT_BULK_MATCH_MAX 10000

/* Why the list filters of q (state, mode, seen, rollout_state) are not
 * valid, or NULL if they are. */
const char *mgmt_device_filter_problem(const struct device_query *q);

/*
 * POST /api/v1/devices/bulk with "match" (the list's filters) instead of
 * "ids": in one transaction, the devices the filter matches, refused
 * with 409 unless they are exactly "expected" many, then the patch or
 * the deletion as the id form does it.  body is the parsed request,
 * patch and del already checked.  Replies.
 */
void mgmt_devices_bulk_match(
    struct request *, struct db *, json_t *body, json_t *patch, bool del);

/* mgmt.c: the assignment check of a bulk patch (409 with the reasons
 * unless confirm); false if a reply was sent. */
bool mgmt_assign_allowed_bulk(
    struct request *, struct db *, json_t *ids, json_t *patch, bool confirm);

#endif
