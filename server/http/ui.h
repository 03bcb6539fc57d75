/*
 * The dashboard's static files, served from settings ui.web_dir under
 * /ui/.  Paths are canonical (route.c refuses "." and ".." segments) and
 * only regular files inside the directory are served.
 */
#ifndef UI_H
#define UI_H

struct request;

void ui_get_root(struct request *);
void ui_get_file(struct request *);

#endif
