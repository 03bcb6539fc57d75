/*
 * hawkBit DDI controller API handlers: the root poll,
 * deployment and cancel actions with their feedback, config data, installed
 * base and artifact downloads.  Captures: params[0] tenant, params[1]
 * controller id, params[2..] per route.
 */
#ifndef DDI_H
#define DDI_H

struct request;

void ddi_get_poll(struct request *);
void ddi_get_deployment(struct request *);
void ddi_post_feedback(struct request *);
void ddi_get_cancel(struct request *);
void ddi_post_cancel_feedback(struct request *);
void ddi_put_config_data(struct request *);
void ddi_get_installed(struct request *);
void ddi_get_artifacts(struct request *);
void ddi_get_artifact(struct request *);

#endif
