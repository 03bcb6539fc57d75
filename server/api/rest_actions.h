/*
 * hawkBit's Management API for assignments and actions under /rest/v1:
 * assigning sets to targets (both ways round), a target's actions and
 * their status entries, cancel and force quit, and every action.
 */
#ifndef REST_ACTIONS_H
#define REST_ACTIONS_H

struct request;

void rest_post_ds_assigned_targets(struct request *);
void rest_post_target_assigned_ds(struct request *);
void rest_get_target_actions(struct request *);
void rest_get_target_action(struct request *);
void rest_get_target_action_status(struct request *);
void rest_delete_target_action(struct request *);
void rest_get_actions(struct request *);
void rest_get_action(struct request *);

#endif
