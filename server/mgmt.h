/*
 * The management JSON API under /api/v1 (Bearer token): software, devices,
 * actions and rollouts, plus /healthz.  Errors are {"error", "detail"}.
 */
#ifndef MGMT_H
#define MGMT_H

struct request;

void mgmt_get_health(struct request *);
void mgmt_get_software_list(struct request *);
void mgmt_post_software(struct request *);
void mgmt_get_software(struct request *);
void mgmt_delete_software(struct request *);
void mgmt_get_devices(struct request *);
void mgmt_post_device(struct request *);
void mgmt_get_device(struct request *);
void mgmt_patch_device(struct request *);
void mgmt_delete_device(struct request *);
void mgmt_get_device_actions(struct request *);
void mgmt_get_action(struct request *);
void mgmt_post_action_cancel(struct request *);
void mgmt_get_rollouts(struct request *);
void mgmt_post_rollout(struct request *);
void mgmt_get_rollout(struct request *);
void mgmt_patch_rollout(struct request *);
void mgmt_delete_rollout(struct request *);

#endif
