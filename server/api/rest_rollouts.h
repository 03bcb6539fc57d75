/*
 * hawkBit's rollout resource, /rest/v1/rollouts (rest_rollouts.c).
 */
#ifndef REST_ROLLOUTS_H
#define REST_ROLLOUTS_H

struct request;

void rest_get_rollouts(struct request *);
void rest_post_rollout(struct request *);
void rest_get_rollout(struct request *);
void rest_delete_rollout(struct request *);
void rest_post_rollout_start(struct request *);
void rest_post_rollout_pause(struct request *);
void rest_post_rollout_resume(struct request *);
void rest_post_rollout_next(struct request *);
void rest_post_rollout_retry(struct request *);
void rest_get_rollout_groups(struct request *);
void rest_get_rollout_group(struct request *);
void rest_get_rollout_group_targets(struct request *);

#endif
