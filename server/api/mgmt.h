/*
 * The management JSON API under /api/v1 (Bearer token): software, devices,
 * actions and rollouts, plus /healthz.  Errors are {"error", "detail"}.
 */
#ifndef MGMT_H
#define MGMT_H

struct request;

void mgmt_get_health(struct request *);
void mgmt_get_metrics(struct request *);
void mgmt_get_openapi(struct request *);
void mgmt_get_setup(struct request *);
void mgmt_post_setup(struct request *);
void mgmt_post_login(struct request *);
void mgmt_post_logout(struct request *);
void mgmt_get_me(struct request *);
void mgmt_post_password(struct request *);
void mgmt_get_users(struct request *);
void mgmt_post_user(struct request *);
void mgmt_patch_user(struct request *);
void mgmt_delete_user(struct request *);
void mgmt_get_tokens(struct request *);
void mgmt_post_token(struct request *);
void mgmt_delete_token(struct request *);
void mgmt_get_audit(struct request *);
void mgmt_get_settings(struct request *);
void mgmt_get_stats(struct request *);
void mgmt_get_software_file(struct request *);
void mgmt_post_devices_bulk(struct request *);
void mgmt_get_device_events(struct request *);
void mgmt_get_device_log(struct request *);
void mgmt_get_refused(struct request *);
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
void mgmt_get_action_history(struct request *);
void mgmt_get_action_log(struct request *);
void mgmt_post_action_cancel(struct request *);
void mgmt_post_action_force_quit(struct request *);
void mgmt_post_device_assign(struct request *);
void mgmt_get_rollouts(struct request *);
void mgmt_post_rollout(struct request *);
void mgmt_get_rollout(struct request *);
void mgmt_patch_rollout(struct request *);
void mgmt_delete_rollout(struct request *);
void mgmt_post_rollout_start(struct request *);
void mgmt_post_rollout_retry(struct request *);
void mgmt_get_rollout_groups(struct request *);
void mgmt_get_rollout_group(struct request *);
void mgmt_post_rollout_group_approve(struct request *);
void mgmt_get_rollout_group_devices(struct request *);
void mgmt_get_rollout_devices(struct request *);
void mgmt_get_rollout_preview(struct request *);
void mgmt_get_filters(struct request *);
void mgmt_post_filter(struct request *);
void mgmt_delete_filter(struct request *);
void mgmt_get_modules(struct request *);
void mgmt_post_module(struct request *);
void mgmt_get_module(struct request *);
void mgmt_patch_module(struct request *);
void mgmt_delete_module(struct request *);
void mgmt_post_artifact(struct request *);
void mgmt_post_external_artifact(struct request *);
void mgmt_get_artifacts(struct request *);
void mgmt_get_artifact(struct request *);
void mgmt_get_artifact_file(struct request *);
void mgmt_delete_artifact(struct request *);
void mgmt_get_distributions(struct request *);
void mgmt_post_distribution(struct request *);
void mgmt_get_distribution(struct request *);
void mgmt_patch_distribution(struct request *);
void mgmt_delete_distribution(struct request *);
void mgmt_get_module_types(struct request *);
void mgmt_post_module_type(struct request *);
void mgmt_delete_module_type(struct request *);
void mgmt_get_dist_types(struct request *);
void mgmt_post_dist_type(struct request *);
void mgmt_delete_dist_type(struct request *);

#endif
