/*
 * hawkBit's target filter queries, /rest/v1/targetfilters (rest_filters.c).
 */
#ifndef REST_FILTERS_H
#define REST_FILTERS_H

struct request;

void rest_get_filters(struct request *);
void rest_post_filter(struct request *);
void rest_get_filter(struct request *);
void rest_put_filter(struct request *);
void rest_delete_filter(struct request *);

#endif
