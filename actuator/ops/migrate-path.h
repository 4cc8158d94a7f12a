/*
 * migrate-path.h - how a live migration moves a guest's memory, chosen by
 * how fast the guest dirties it (the cache-assisted migration scheme):
 * plain pre-copy for a quiet guest, pre-copy with an XBZRLE cache and a
 * capped number of passes before post-copy for a moderate one, post-copy
 * at once for a busy one. Pure.
 */
#ifndef VS_MIGRATE_PATH_H
#define VS_MIGRATE_PATH_H

typedef enum {
	VS_MIGRATE_PATH_PRECOPY = 1,  /* path 1: plain pre-copy */
	VS_MIGRATE_PATH_XBZRLE = 2,   /* path 2: pre-copy, XBZRLE, post-copy after the cap */
	VS_MIGRATE_PATH_POSTCOPY = 3, /* path 3: post-copy from the start */
} vs_migrate_path;

/* The dirty rate in percent of the guest's memory per second; -1 when
 * either figure is unknown (negative) or the memory is 0. */
double vs_migrate_dirty_percent(double dirty_mib_per_s, double memory_mib);
/* The path for @dirty_percent with the pool's @low and @high bounds
 * (migrate_dirty_low/high): below low 1, up to high 2, above high 3. An
 * unknown rate (negative) takes path 2: it converges whatever the rate. */
vs_migrate_path vs_migrate_path_choose(double dirty_percent, double low, double high);
/* "pre-copy", "xbzrle", "post-copy" (status.json, logs). */
const char *vs_migrate_path_name(vs_migrate_path p);

#endif
